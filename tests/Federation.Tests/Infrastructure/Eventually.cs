namespace Federation.Tests.Infrastructure;

/// <summary>Waits on a polled condition under a generous hang guard; never a bare sleep.</summary>
public static class Eventually
{
    public static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    public static async Task<T> ReturnsAsync<T>(Func<Task<T?>> probe, Func<T, bool> done, string what, TimeSpan? guard = null)
        where T : class
    {
        var deadline = DateTime.UtcNow + (guard ?? HangGuard);
        T? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await probe();
            if (last is not null && done(last))
            {
                return last;
            }

            await Task.Delay(25);
        }

        throw new TimeoutException($"Gave up waiting for {what}; last value: {last}");
    }
}
