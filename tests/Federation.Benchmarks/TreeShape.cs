using System.Globalization;

namespace Federation.Benchmarks;

/// <summary>
/// The shape of a national tree: how many nodes each tier has below the nation, children spread evenly
/// over their parents (contiguous, in order). Ids follow the statistical division codes (2+2+2+3+3 digits).
/// </summary>
internal sealed class TreeShape
{
    /// <summary>Tier labels from the top down, below the nation.</summary>
    public static IReadOnlyList<string> Tiers { get; } = ["province", "city", "county", "township", "village"];

    private static readonly int[] s_idDigits = [2, 2, 2, 3, 3];
    private static readonly string[] s_plurals = ["provinces", "cities", "counties", "townships", "villages"];

    private readonly int[][] _firstChild;

    public TreeShape(IReadOnlyList<int> counts)
    {
        if (counts.Count != Tiers.Count || counts.Any(static c => c < 1) || counts.Zip(counts.Skip(1)).Any(static p => p.Second < p.First))
        {
            throw new ArgumentException("one count per tier, each at least 1 and at least its parent tier's.", nameof(counts));
        }

        Counts = counts;
        _firstChild = new int[counts.Count][];
        for (var level = 1; level < counts.Count; level++)
        {
            // Parent of child i is ⌊i·P/C⌋; children of p start at ⌈p·C/P⌉.
            var (parents, children) = ((long)counts[level - 1], (long)counts[level]);
            _firstChild[level] = [.. Enumerable.Range(0, counts[level - 1] + 1).Select(p => (int)((p * children + parents - 1) / parents))];
        }
    }

    /// <summary>Roughly China's: 31 provinces, 330 cities, 2,800 counties, 38,000 townships, 490,000 villages.</summary>
    public static TreeShape National { get; } = new([31, 330, 2_800, 38_000, 490_000]);

    public IReadOnlyList<int> Counts { get; }

    public int VillageCount => Counts[^1];

    /// <summary>Every tier's count divided by <paramref name="divisor"/> (at least one node each): the same shape, smaller.</summary>
    public TreeShape Scaled(int divisor) => new([.. Counts.Select(c => Math.Max(1, (int)Math.Round(c / (double)divisor)))]);

    /// <summary>The children at <paramref name="level"/> + 1 of node <paramref name="index"/> at <paramref name="level"/>.</summary>
    public Range ChildrenOf(int level, int index) => _firstChild[level + 1][index].._firstChild[level + 1][index + 1];

    /// <summary>The index of the parent (at <paramref name="level"/> − 1) of node <paramref name="index"/>.</summary>
    public int ParentOf(int level, int index) => (int)((long)index * Counts[level - 1] / Counts[level]);

    /// <summary>The id of a child: its parent's id and its 1-based place among its siblings.</summary>
    public string ChildId(string parentId, int level, int index, int firstSibling) =>
        parentId + (index - firstSibling + 1).ToString("D" + s_idDigits[level].ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    public override string ToString() => string.Join(" / ", Counts.Select((c, i) => $"{c:N0} {s_plurals[i]}"));
}
