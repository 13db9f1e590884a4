using Federation.Aggregator;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Ratings;
using Federation.Aggregator.Signing;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;

namespace Federation.Tests.Core;

/// <summary>
/// The star-rating core against an independent computation (<see cref="RatingOracle"/>) over random schemes and
/// scores, the scheme checks, the entry checks, the two-year flags and the signed statement.
/// </summary>
public sealed class StarRatingTests
{
    private const int Rounds = 300;
    private static readonly int s_baseSeed = PropertySeeds.First(1949);
    private static readonly Period s_year = Period.OfYear(2025);
    private static readonly DateTimeOffset s_now = new(2026, 2, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Rate_RandomSchemesAndScores_EqualTheIndependentComputation()
    {
        var demotedToFour = 0;
        var demotedToThree = 0;
        var tiesOnTotal = 0;
        ForEachSeed(rng =>
        {
            var scheme = RandomScheme(rng);
            Assert.True(RatingSchemeIndex.TryCreate(scheme, out var index, out var problem), problem);
            var units = Enumerable.Range(0, rng.Next(1, 26)).Select(i => RandomUnit(rng, scheme, $"u{rng.Next(1000):D3}x{i}")).ToList();

            var statement = StarRating.Rate(new RatingInputs("370113", "county", s_year, 1, s_now, "reviewer", index,
                [.. units.Select(static u => new UnitPoints(u.UnitId, "township", [.. u.Assessments.Select(static a => new AssessmentPoints { Period = a.Period, PointsTenths = a.Tenths })],
                    [.. u.Adjustments.Select(static a => new AdjustmentEntry { ItemId = a.Key, Count = a.Value })], 1, new byte[32]))],
                []));
            var expected = RatingOracle.Rate(scheme, units);

            Assert.Equal(expected.Select(static e => e.UnitId), statement.Units.Select(static u => u.UnitId));
            foreach (var (want, got) in expected.Zip(statement.Units))
            {
                Assert.True(RatingOracle.Same(want.Scaled, got.Total), $"{want.UnitId}: total {got.Total.Numerator}/{got.Total.Denominator}, expected {want.Scaled}/{1000 * RatingOracle.Scale}");
                Assert.Equal((uint)want.Rank, got.Rank);
                Assert.Equal(want.Earned, got.EarnedStars);
                Assert.Equal(want.Stars, got.Stars);
                Assert.Equal(want.Effect switch { "five" => QuotaEffect.FiveStarQuota, "three" => QuotaEffect.ThreeOrBelowShare, _ => QuotaEffect.None }, got.QuotaEffect);
            }

            Assert.Empty(StarRating.Recheck(statement));
            demotedToFour += expected.Count(static e => e.Effect == "five");
            demotedToThree += expected.Count(static e => e.Effect == "three");
            tiesOnTotal += expected.Zip(expected.Skip(1)).Count(static p => p.First.Scaled == p.Second.Scaled);
        });

        // The generator must reach every rule, or agreeing proves little.
        Assert.True(demotedToFour > 0 && demotedToThree > 0 && tiesOnTotal > 0, $"five-star demotions {demotedToFour}, three-star {demotedToThree}, ties {tiesOnTotal}");
    }

    [Fact]
    public void Rate_EqualTotals_OrderByAnnualThenQuarterlyThenMonthlyThenUnitId()
    {
        var scheme = RatingSchemeIndex.Default;

        // 50% monthly + 20% quarterly + 30% annual: b has more annual, a more monthly, with one total; c and d are identical.
        UnitPoints Unit(string id, long month, long quarter, long annual) => new(id, "township",
            [new() { Period = "2025-01", PointsTenths = month }, new() { Period = "2025-Q1", PointsTenths = quarter }, new() { Period = "2025", PointsTenths = annual }], [], 1, new byte[32]);
        var statement = StarRating.Rate(new RatingInputs("370113", "county", s_year, 1, s_now, "r", scheme,
            [Unit("a", 60, 0, 0), Unit("b", 0, 0, 100), Unit("d", 30, 0, 50), Unit("c", 30, 0, 50)], []));

        Assert.Equal(["b", "c", "d", "a"], statement.Units.Select(static u => u.UnitId));
        Assert.All(statement.Units, static u => Assert.Equal("3.00", u.Total.Display));
    }

    [Fact]
    public void Rate_DefaultQuotas_TenUnitsAtFiveStars_KeepThreeDemoteFourAndLowerThree()
    {
        UnitPoints Unit(int i) => new($"t{i:D2}", "township", [new() { Period = "2025", PointsTenths = 1000 - i }], [], 1, new byte[32]);
        var weightsAllAnnual = RatingSchemeIndex.Default.Scheme.Clone();
        weightsAllAnnual.Weights = new SourceWeights { AnnualPercent = 100 };
        Assert.True(RatingSchemeIndex.TryCreate(weightsAllAnnual, out var scheme, out _));

        var statement = StarRating.Rate(new RatingInputs("370113", "county", s_year, 1, s_now, "r", scheme, [.. Enumerable.Range(0, 10).Select(Unit)], []));

        // 30% of 10 may stay at five stars; at least 30% must be at three or below: the three lowest-ranked.
        Assert.Equal([5u, 5, 5, 4, 4, 4, 4, 3, 3, 3], statement.Units.Select(static u => u.Stars));
        Assert.Equal(3u, statement.FiveStarAllowedCount);
        Assert.Equal(3u, statement.ThreeOrBelowRequiredCount);
        Assert.Equal(QuotaEffect.ThreeOrBelowShare, statement.Units[9].QuotaEffect);
        Assert.Equal(5u, statement.Units[9].EarnedStars);
        Assert.Equal(QuotaEffect.FiveStarQuota, statement.Units[3].QuotaEffect);
    }

    [Fact]
    public void Rate_AdjustmentCaps_ItemCapsAndOverallBonusCapApply_PetitionsAreUncapped()
    {
        var scheme = RatingSchemeIndex.Default;
        var unit = new UnitPoints("t01", "township", [new() { Period = "2025", PointsTenths = 800 }],
        [
            new() { ItemId = "bonus_provincial_case", Count = 9 }, // 1.0 each, capped at 3.0
            new() { ItemId = "bonus_city_promotion", Count = 9 }, // 0.5 each, capped at 2.0
            new() { ItemId = "bonus_demonstration_site", Count = 9 }, // 0.5 each, capped at 1.0; 6.0 in all, capped at 5.0
            new() { ItemId = "penalty_petition", Count = 12 }, // 1.0 each, uncapped
        ], 1, new byte[32]);

        var rated = StarRating.Rate(new RatingInputs("370113", "county", s_year, 1, s_now, "r", scheme, [unit], [])).Units.Single();

        Assert.Equal(50, rated.BonusTenths);
        Assert.Equal(120, rated.PenaltyTenths);
        Assert.Equal([20L, 10, 30, 120], rated.Adjustments.OrderBy(static a => a.Penalty).ThenBy(static a => a.ItemId, StringComparer.Ordinal).Select(static a => a.PointsTenths));

        // 30% of 80.0 annual = 24.0, plus 5.0, minus 12.0 = 17.0; monthly and quarterly missing count 0.
        Assert.Equal("17.00", rated.Total.Display);
        Assert.Equal([AssessmentSource.Monthly, AssessmentSource.Quarterly], rated.MissingSources);
    }

    [Fact]
    public void DefaultScheme_LoadsWithFivePartsWeightsFiftyTwentyThirtyAndUncappedPetitions()
    {
        var scheme = RatingSchemeIndex.Default.Scheme;

        Assert.Equal(["duty", "organisation", "cadres", "support", "innovation"], scheme.Parts.Select(static p => p.Id));
        Assert.Equal(1000, scheme.Parts.SelectMany(static p => p.Items).Sum(static i => i.MaxTenths));
        Assert.Equal((50u, 20u, 30u), (scheme.Weights.MonthlyPercent, scheme.Weights.QuarterlyPercent, scheme.Weights.AnnualPercent));
        Assert.Equal(5, scheme.BonusItems.Count + scheme.PenaltyItems.Count);
        Assert.Equal(0, scheme.PenaltyItems.Single(static p => p.Id == "penalty_petition").CapTenths);
    }

    [Theory]
    [InlineData("weights", "add up to 90")]
    [InlineData("thresholds-order", "thresholds must descend")]
    [InlineData("thresholds-missing", "thresholds must list 5, 4, 3, 2 and 1")]
    [InlineData("duplicate-item", "repeated")]
    [InlineData("zero-max", "max_tenths 0")]
    [InlineData("tie-twice", "tie_breakers")]
    [InlineData("percent", "quota percents")]
    [InlineData("no-parts", "no parts")]
    public void TryCreate_BadScheme_SaysWhatIsWrongInOneSentence(string fault, string expected)
    {
        var scheme = RatingSchemeIndex.Default.Scheme.Clone();
        switch (fault)
        {
            case "weights":
                scheme.Weights.AnnualPercent = 20;
                break;
            case "thresholds-order":
                scheme.Thresholds[2].MinTotalTenths = 900;
                break;
            case "thresholds-missing":
                scheme.Thresholds.RemoveAt(4);
                break;
            case "duplicate-item":
                scheme.Parts[1].Items[0].Id = scheme.Parts[0].Items[0].Id;
                break;
            case "zero-max":
                scheme.Parts[0].Items[0].MaxTenths = 0;
                break;
            case "tie-twice":
                scheme.TieBreakers.Add(TieBreaker.Annual);
                break;
            case "percent":
                scheme.Quotas.ThreeOrBelowMinPercent = 130;
                break;
            default:
                scheme.Parts.Clear();
                break;
        }

        Assert.False(RatingSchemeIndex.TryCreate(scheme, out _, out var problem));
        Assert.Contains(expected, problem, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', problem);
    }

    [Fact]
    public void TryParseJson_NotJson_SaysSo()
    {
        Assert.False(RatingSchemeIndex.TryParseJson("{ \"id\": ", out _, out var problem));
        Assert.StartsWith("not a rating scheme in proto JSON", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("unknown-item", "UNKNOWN_RATING_ITEM", "units[0].assessments[0].items[0].item_id")]
    [InlineData("above-max", "POINTS_ABOVE_MAXIMUM", "units[0].assessments[0].items[0].points_tenths")]
    [InlineData("negative", "NEGATIVE_VALUE", "units[0].assessments[0].items[0].points_tenths")]
    [InlineData("half-year", "WRONG_PERIOD_TYPE", "units[0].assessments[0].period")]
    [InlineData("other-year", "WRONG_PERIOD_TYPE", "units[0].assessments[0].period")]
    [InlineData("month-not-started", "PERIOD_NOT_STARTED", "units[0].assessments[0].period")]
    [InlineData("duplicate-period", "DUPLICATE_ENTRY", "units[0].assessments[1].period")]
    [InlineData("duplicate-unit", "DUPLICATE_ENTRY", "units[1].unit_id")]
    [InlineData("unknown-adjustment", "UNKNOWN_RATING_ITEM", "units[0].adjustments.entries[0].item_id")]
    [InlineData("negative-count", "NEGATIVE_VALUE", "units[0].adjustments.entries[0].count")]
    public void Validate_BadEntry_NamesTheFieldAndTheRule(string fault, string reason, string field)
    {
        var item = RatingSchemeIndex.Default.Scheme.Parts[0].Items[0];
        var assessment = new Assessment { Period = "2026-01", Items = { new ItemScore { ItemId = item.Id, PointsTenths = 10 } } };
        var entry = new ScoreEntry("t01", [assessment], null, false);
        var entries = new List<ScoreEntry> { entry };
        switch (fault)
        {
            case "unknown-item":
                assessment.Items[0].ItemId = "no_such_item";
                break;
            case "above-max":
                assessment.Items[0].PointsTenths = item.MaxTenths + 1;
                break;
            case "negative":
                assessment.Items[0].PointsTenths = -1;
                break;
            case "half-year":
                assessment.Period = "2026-H1";
                break;
            case "other-year":
                assessment.Period = "2025-Q4";
                break;
            case "month-not-started":
                assessment.Period = "2026-12";
                break;
            case "duplicate-period":
                entries[0] = entry with { Assessments = [assessment, assessment.Clone()] };
                break;
            case "duplicate-unit":
                entries.Add(entry);
                break;
            case "unknown-adjustment":
                entries[0] = entry with { Adjustments = [new AdjustmentEntry { ItemId = item.Id, Count = 1 }] };
                break;
            default:
                entries[0] = entry with { Adjustments = [new AdjustmentEntry { ItemId = "penalty_petition", Count = -2 }] };
                break;
        }

        var validation = ScoreEntries.Validate(RatingSchemeIndex.Default, "2026", entries, new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero));

        Assert.False(validation.IsValid);
        Assert.Equal(reason, Federation.Node.Application.RpcErrors.ReasonText(validation.Violations[0].Reason));
        Assert.Equal(field, validation.Violations[0].Field);
    }

    [Theory]
    [InlineData("2026-Q1", "WRONG_PERIOD_TYPE")]
    [InlineData("2027", "PERIOD_NOT_STARTED")]
    [InlineData("26", "MALFORMED_PERIOD")]
    public void Validate_YearThatIsNotARatingYear_IsRefused(string year, string reason)
    {
        var validation = ScoreEntries.Validate(RatingSchemeIndex.Default, year, [new ScoreEntry("t01", [], null, false)], new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero));

        Assert.Equal(reason, Federation.Node.Application.RpcErrors.ReasonText(validation.Violations.Single().Reason));
        Assert.Equal("year", validation.Violations[0].Field);
    }

    [Fact]
    public void Apply_AssessmentsReplaceTheirPeriod_EmptyOneRemoves_AdjustmentsKeptUnlessGiven()
    {
        var item = RatingSchemeIndex.Default.Scheme.Parts[0].Items[0].Id;
        Assessment A(string period, int points) => new() { Period = period, Items = { new ItemScore { ItemId = item, PointsTenths = points } } };
        var first = ScoreEntries.Apply(null, new ScoreEntry("t01", [A("2026-02", 5), A("2026-01", 4)], [new() { ItemId = "penalty_petition", Count = 2 }], false), Period.OfYear(2026));

        var second = ScoreEntries.Apply(first, new ScoreEntry("t01", [A("2026-02", 7), new Assessment { Period = "2026-01" }, A("2026", 9)], null, false), Period.OfYear(2026));
        var replaced = ScoreEntries.Apply(second, new ScoreEntry("t01", [A("2026-Q1", 3)], null, Replace: true), Period.OfYear(2026));

        Assert.Equal(["2026-01", "2026-02"], first.Assessments.Select(static a => a.Period));
        Assert.Equal(["2026", "2026-02"], second.Assessments.Select(static a => a.Period));
        Assert.Equal(7, second.Assessments[1].Items[0].PointsTenths);
        Assert.Equal(2, second.Adjustments.Single().Count);
        Assert.Equal(["2026-Q1"], replaced.Assessments.Select(static a => a.Period));
        Assert.Empty(replaced.Adjustments);
        Assert.True(ScoreEntries.SameScores(second, ScoreEntries.Apply(second, new ScoreEntry("t01", [A("2026-02", 7)], null, false), Period.OfYear(2026))));
    }

    [Fact]
    public void Flags_FiveStarsTwiceAndThreeOrBelowTwice_AreFlaggedWithTheirConsequences()
    {
        static RatingStatement Year(params (string Id, uint Stars)[] units)
        {
            var statement = new RatingStatement { NodeId = "370113", Year = "2026" };
            statement.Units.AddRange(units.Select(static u => new UnitRating { UnitId = u.Id, Stars = u.Stars }));
            return statement;
        }

        var flags = RatingFlags.Between(Year(("a", 5), ("b", 3), ("c", 5), ("d", 2), ("e", 4)), Year(("a", 5), ("b", 1), ("c", 4), ("d", 3), ("f", 5)));

        Assert.Equal([("a", RatingFlagKind.FiveStarsTwoYears), ("b", RatingFlagKind.ThreeOrBelowTwoYears), ("d", RatingFlagKind.ThreeOrBelowTwoYears)],
            flags.Select(static f => (f.UnitId, f.Kind)));
        Assert.Contains("不得提拔使用", flags[1].ConsequenceZh, StringComparison.Ordinal);
        Assert.Contains("recommended first for honours", flags[0].ConsequenceEn, StringComparison.Ordinal);
    }

    [Fact]
    public void SignedStatement_VerifiesOffline_AndAnyChangedByteOrAnotherDomainFails()
    {
        using var key = NodeSigningKey.FromPrivateKeyBytes(Enumerable.Range(1, 32).Select(static i => (byte)i).ToArray());
        var statement = StarRating.Rate(new RatingInputs("370113", "county", s_year, 7, s_now, "reviewer", RatingSchemeIndex.Default,
            [new UnitPoints("370113001", "township", [new() { Period = "2025", PointsTenths = 950 }], [], 1, new byte[32])], ["370113002"]));
        var signed = SignedMessages.SignRatingStatement(statement, key);

        var verification = SignedMessages.VerifyRatingStatement(signed, key.PublicKeyBytes);

        Assert.True(verification.IsValid, verification.Message);
        Assert.Equal(statement, verification.Value);
        Assert.Empty(StarRating.Recheck(verification.Value!));
        var bytes = signed.StatementBytes.ToByteArray();
        for (var i = 0; i < bytes.Length; i += 7)
        {
            var changed = (byte[])bytes.Clone();
            changed[i] ^= 0x01;
            Assert.False(SignedMessages.VerifyRatingStatement(new SignedRatingStatement { StatementBytes = ByteString.CopyFrom(changed), Signature = signed.Signature, KeyId = signed.KeyId }, key.PublicKeyBytes).IsValid);
        }

        // A statement's signature is not a decision's, nor a summary's.
        Assert.False(SignedMessages.VerifyDecision(new SignedDecision { DecisionBytes = signed.StatementBytes, Signature = signed.Signature, KeyId = signed.KeyId }, key.PublicKeyBytes).IsValid);
        Assert.Equal(RejectionReason.BadSignature, SignedMessages.VerifySummary(new SignedSummary { SummaryBytes = signed.StatementBytes, Signature = signed.Signature, KeyId = signed.KeyId }, key.PublicKeyBytes).Reason);
    }

    [Fact]
    public void Recheck_StatementWithABentStar_IsCaught()
    {
        var statement = StarRating.Rate(new RatingInputs("370113", "county", s_year, 1, s_now, "r", RatingSchemeIndex.Default,
            [new UnitPoints("a", "township", [new() { Period = "2025", PointsTenths = 700 }], [], 1, new byte[32])], []));
        statement.Units[0].Stars = 5;

        Assert.Contains(StarRating.Recheck(statement), static d => d.Contains("stated rank 1, 5 stars", StringComparison.Ordinal));
    }

    private static void ForEachSeed(Action<Random> property) => PropertySeeds.ForEach(s_baseSeed, Rounds, property);

    /// <summary>A small random scheme: few items with small maximums, so that equal totals and every quota rule happen often.</summary>
    private static RatingScheme RandomScheme(Random rng)
    {
        var scheme = new RatingScheme { Id = "random", Version = 1 };
        for (var p = 0; p < rng.Next(1, 4); p++)
        {
            var part = new RatingPart { Id = $"p{p}" };
            for (var i = 0; i < rng.Next(1, 4); i++)
            {
                part.Items.Add(new RatingItem { Id = $"p{p}i{i}", MaxTenths = rng.Next(1, 21) });
            }

            scheme.Parts.Add(part);
        }

        var monthly = (uint)rng.Next(0, 101);
        var quarterly = (uint)rng.Next(0, 101 - (int)monthly);
        scheme.Weights = new SourceWeights { MonthlyPercent = monthly, QuarterlyPercent = quarterly, AnnualPercent = 100 - monthly - quarterly };
        scheme.BonusItems.Add(new AdjustmentItem { Id = "b0", TenthsPerOccurrence = rng.Next(1, 6), CapTenths = rng.Next(0, 10) });
        scheme.PenaltyItems.Add(new AdjustmentItem { Id = "n0", TenthsPerOccurrence = rng.Next(1, 6), CapTenths = rng.Next(0, 2) == 0 ? 0 : rng.Next(1, 10) });
        scheme.BonusCapTenths = rng.Next(0, 8);
        var maxTotal = scheme.Parts.SelectMany(static p => p.Items).Sum(static i => i.MaxTenths);
        var thresholds = Enumerable.Range(0, 5).Select(_ => rng.Next(-5, maxTotal + 3)).Distinct().OrderDescending().ToList();
        while (thresholds.Count < 5)
        {
            thresholds.Add(thresholds[^1] - 1);
        }

        for (var s = 0; s < 5; s++)
        {
            scheme.Thresholds.Add(new StarThreshold { Stars = (uint)(5 - s), MinTotalTenths = thresholds[s] });
        }

        scheme.Quotas = new StarQuotas { ThreeOrBelowMinPercent = (uint)rng.Next(0, 101) };
        if (rng.Next(3) > 0)
        {
            scheme.Quotas.FiveStarMaxPercent = (uint)rng.Next(0, 101);
        }

        if (rng.Next(3) == 0)
        {
            scheme.Quotas.FiveStarMaxCount = (uint)rng.Next(0, 6);
        }

        scheme.TieBreakers.AddRange(new[] { TieBreaker.Annual, TieBreaker.Quarterly, TieBreaker.Monthly }.OrderBy(_ => rng.Next()).Take(rng.Next(0, 4)));
        return scheme;
    }

    /// <summary>A unit with random months, quarters and annual of 2025 (any may be missing), random points and occurrences.</summary>
    private static RatingOracle.UnitInput RandomUnit(Random rng, RatingScheme scheme, string id)
    {
        var maxTotal = scheme.Parts.SelectMany(static p => p.Items).Sum(static i => i.MaxTenths);
        var assessments = new List<(string, long)>();
        foreach (var month in Enumerable.Range(1, 12).Where(_ => rng.Next(3) == 0))
        {
            assessments.Add(($"2025-{month:D2}", rng.Next(0, maxTotal + 1)));
        }

        foreach (var quarter in Enumerable.Range(1, 4).Where(_ => rng.Next(2) == 0))
        {
            assessments.Add(($"2025-Q{quarter}", rng.Next(0, maxTotal + 1)));
        }

        if (rng.Next(4) > 0)
        {
            assessments.Add(("2025", rng.Next(0, maxTotal + 1)));
        }

        var adjustments = new Dictionary<string, int>(StringComparer.Ordinal);
        if (rng.Next(2) == 0)
        {
            adjustments["b0"] = rng.Next(0, 5);
        }

        if (rng.Next(3) == 0)
        {
            adjustments["n0"] = rng.Next(0, 5);
        }

        return new RatingOracle.UnitInput(id, assessments, adjustments);
    }
}
