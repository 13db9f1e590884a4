namespace Federation.Node.Web.Pages;

/// <summary>Where an unexpected failure of a page lands: one line, never the exception (it is logged by the host).</summary>
public sealed class ErrorModel : WebPageModel
{
    protected override Task LoadAsync(CancellationToken cancellationToken)
    {
        Response.StatusCode = StatusCodes.Status500InternalServerError;
        return Task.CompletedTask;
    }
}
