namespace Federation.Aggregator.Summaries;

/// <summary>
/// How many leaf units a parent lets one child claim, so that no child can push the parent's own
/// summary past <see cref="SummaryChecks.MaxLeafCount"/> (which the grandparent would refuse for good).
/// </summary>
/// <remarks>
/// A child enrolled with a leaf count may claim at most that count. A child enrolled without one gets
/// an equal share of what is left of the node's capacity once its hosted units and the counted
/// children are set aside. The allowances then add up to at most the capacity, so the node's total
/// stays in bounds whatever each child claims, and every honest child keeps room for its own figures.
/// </remarks>
public static class LeafAllowance
{
    /// <summary>The allowance of one child.</summary>
    /// <param name="enrolledLeafCount">The count the child was enrolled with; 0 when none was given.</param>
    /// <param name="hostedUnitCount">Units the node hosts (one leaf each).</param>
    /// <param name="countedLeafTotal">The sum of the enrolled counts of all children enrolled with one.</param>
    /// <param name="uncountedChildCount">Children enrolled without a count, this one included when it is one.</param>
    /// <param name="capacity">
    /// The most leaves the node's own summary may cover: <see cref="SummaryChecks.MaxLeafCount"/>, or less
    /// when the node's parent allows it less (its receipts and refusals say so).
    /// </param>
    public static uint Of(uint enrolledLeafCount, long hostedUnitCount, long countedLeafTotal, long uncountedChildCount, uint capacity = SummaryChecks.MaxLeafCount)
    {
        if (enrolledLeafCount > 0)
        {
            return enrolledLeafCount;
        }

        var remaining = Math.Min(capacity, SummaryChecks.MaxLeafCount) - hostedUnitCount - countedLeafTotal;
        return remaining <= 0 ? 0 : (uint)(remaining / Math.Max(1, uncountedChildCount));
    }

    /// <summary>
    /// True when the node's hosted units and children fit its capacity with at least one leaf for each
    /// child enrolled without a count; enrolment and hosting refuse anything that would break this.
    /// </summary>
    public static bool Fits(long hostedUnitCount, long countedLeafTotal, long uncountedChildCount) =>
        hostedUnitCount + countedLeafTotal + uncountedChildCount <= SummaryChecks.MaxLeafCount;
}
