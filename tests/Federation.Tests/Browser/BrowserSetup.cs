using System.Diagnostics;

namespace Federation.Tests.Browser;

/// <summary>
/// Debian's Chromium and a CJK font for the browser tests: present, or installed here when the tests run
/// as root (`apt-get install -y chromium fonts-wqy-microhei`), or one line saying what to install. A
/// browser test never skips for want of a browser.
/// </summary>
public static class BrowserSetup
{
    public const string ChromiumPath = "/usr/bin/chromium";
    private const string Packages = "chromium fonts-wqy-microhei";
    private static readonly SemaphoreSlim s_gate = new(1, 1);

    private static readonly string[] s_cjkFonts =
    [
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    ];

    public static async Task EnsureAsync()
    {
        await s_gate.WaitAsync();
        try
        {
            if (IsReady())
            {
                return;
            }

            if (!IsRoot())
            {
                throw new InvalidOperationException(
                    $"The browser tests need Debian's Chromium and a CJK font: run `sudo apt-get install -y {Packages}` (as root the tests install them themselves).");
            }

            var (exitCode, output) = await RunAsync("/bin/sh", $"-c \"apt-get update && apt-get install -y --no-install-recommends {Packages}\"");
            if (exitCode != 0 || !IsReady())
            {
                throw new InvalidOperationException(
                    $"Installing {Packages} failed (exit code {exitCode}); install them by hand. apt said: {Tail(output)}");
            }
        }
        finally
        {
            s_gate.Release();
        }
    }

    private static bool IsReady() => File.Exists(ChromiumPath) && s_cjkFonts.Any(File.Exists);

    private static bool IsRoot() => Environment.UserName == "root";

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string arguments)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        await process.WaitForExitAsync(guard.Token);
        return (process.ExitCode, await output + await error);
    }

    private static string Tail(string text) => text.Length <= 400 ? text.Trim() : "…" + text[^400..].Trim();
}
