using System.Globalization;
using Federation.Aggregator;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Ledger;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Proofs;
using Federation.Aggregator.Reports;
using Federation.Aggregator.Review;
using Federation.Aggregator.Signing;
using Federation.Aggregator.Summaries;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Tests.Core;

/// <summary>
/// The rectification ledger's pure rules: the step machine (a property test walks random steps by random callers; a
/// failure names the seed, replay with FEDERATION_PROPERTY_SEED), deadlines in China time, the checks of a listing, the
/// signed step, and the ledger's part in a summary, its checks at the parent and its audit.
/// </summary>
public sealed class LedgerRulesTests
{
    private const int Rounds = 300;
    private static readonly int s_baseSeed = Environment.GetEnvironmentVariable("FEDERATION_PROPERTY_SEED") is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : 6101;
    private static readonly DateTimeOffset s_now = new(2026, 5, 10, 2, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(LedgerItemStatus.Unspecified, LedgerStepKind.List, LedgerActor.UnitClerk, "", LedgerItemStatus.Open)]
    [InlineData(LedgerItemStatus.Unspecified, LedgerStepKind.List, LedgerActor.TierAbove, "found on inspection", LedgerItemStatus.Open)]
    [InlineData(LedgerItemStatus.Open, LedgerStepKind.FixReported, LedgerActor.UnitClerk, "fixed", LedgerItemStatus.FixReported)]
    [InlineData(LedgerItemStatus.FixReported, LedgerStepKind.Accepted, LedgerActor.TierAbove, "", LedgerItemStatus.Cleared)]
    [InlineData(LedgerItemStatus.FixReported, LedgerStepKind.SentBack, LedgerActor.TierAbove, "not yet", LedgerItemStatus.Open)]
    public void Step_AllowedStep_LeavesTheNextStatus(LedgerItemStatus current, LedgerStepKind kind, LedgerActor actor, string note, LedgerItemStatus next)
    {
        var check = LedgerRules.Step(current, kind, actor, note, 1);

        Assert.True(check.IsAllowed, check.Message);
        Assert.Equal(next, check.Next);
        Assert.Equal(next, LedgerRules.StatusAfter(kind));
    }

    [Theory]
    [InlineData(LedgerItemStatus.FixReported, LedgerStepKind.Accepted, LedgerActor.UnitClerk, "", RejectionReason.RoleNotAllowed)]
    [InlineData(LedgerItemStatus.FixReported, LedgerStepKind.Accepted, LedgerActor.OwnReviewer, "", RejectionReason.RoleNotAllowed)]
    [InlineData(LedgerItemStatus.Unspecified, LedgerStepKind.List, LedgerActor.OwnReviewer, "", RejectionReason.RoleNotAllowed)]
    [InlineData(LedgerItemStatus.Open, LedgerStepKind.FixReported, LedgerActor.TierAbove, "fixed", RejectionReason.RoleNotAllowed)]
    [InlineData(LedgerItemStatus.FixReported, LedgerStepKind.SentBack, LedgerActor.TierAbove, " ", RejectionReason.ReasonRequired)]
    [InlineData(LedgerItemStatus.Open, LedgerStepKind.FixReported, LedgerActor.UnitClerk, "", RejectionReason.ReasonRequired)]
    [InlineData(LedgerItemStatus.Open, LedgerStepKind.Accepted, LedgerActor.TierAbove, "", RejectionReason.WrongReviewState)]
    [InlineData(LedgerItemStatus.Cleared, LedgerStepKind.SentBack, LedgerActor.TierAbove, "late", RejectionReason.WrongReviewState)]
    [InlineData(LedgerItemStatus.FixReported, LedgerStepKind.FixReported, LedgerActor.UnitClerk, "again", RejectionReason.WrongReviewState)]
    [InlineData(LedgerItemStatus.Open, LedgerStepKind.List, LedgerActor.UnitClerk, "", RejectionReason.WrongReviewState)]
    [InlineData(LedgerItemStatus.Open, LedgerStepKind.FixReported, LedgerActor.UnitClerk, "a\u0007b", RejectionReason.MalformedRequest)]
    public void Step_NotAllowed_IsRefusedWithItsReason(LedgerItemStatus current, LedgerStepKind kind, LedgerActor actor, string note, RejectionReason reason)
    {
        var check = LedgerRules.Step(current, kind, actor, note, 1);

        Assert.False(check.IsAllowed);
        Assert.Equal(reason, check.Reason);
        Assert.False(string.IsNullOrWhiteSpace(check.Message));
    }

    [Fact]
    public void Step_TooLongNoteOrTooManySteps_IsValueTooLarge()
    {
        Assert.Equal(RejectionReason.ValueTooLarge, LedgerRules.Step(LedgerItemStatus.Open, LedgerStepKind.FixReported, LedgerActor.UnitClerk, new string('x', 501), 1).Reason);
        Assert.Equal(RejectionReason.ValueTooLarge,
            LedgerRules.Step(LedgerItemStatus.FixReported, LedgerStepKind.SentBack, LedgerActor.TierAbove, "again", LedgerRules.MaxStepsPerItem).Reason);
    }

    [Fact]
    public void Step_RandomStepsByRandomCallers_ClearOnlyWhenTheTierAboveAcceptsAReportedFix()
    {
        for (var round = 0; round < Rounds; round++)
        {
            var seed = s_baseSeed + round;
            var rng = new Random(seed);
            var status = LedgerRules.Step(LedgerItemStatus.Unspecified, LedgerStepKind.List, rng.Next(2) == 0 ? LedgerActor.UnitClerk : LedgerActor.TierAbove, "", 0).Next;
            var steps = 1;
            var acceptedByTierAbove = false;
            for (var i = 0; i < 40; i++)
            {
                var kind = (LedgerStepKind)rng.Next(1, 5);
                var actor = (LedgerActor)rng.Next(0, 3);
                var check = LedgerRules.Step(status, kind, actor, rng.Next(3) == 0 ? string.Empty : "note", steps);
                if (!check.IsAllowed)
                {
                    continue;
                }

                Assert.True(actor != LedgerActor.OwnReviewer, $"seed {seed}: the unit's own reviewer took a {kind}");
                Assert.True(status != LedgerItemStatus.Cleared, $"seed {seed}: a cleared item changed");
                acceptedByTierAbove |= kind == LedgerStepKind.Accepted && actor == LedgerActor.TierAbove && status == LedgerItemStatus.FixReported;
                status = check.Next;
                steps++;
            }

            Assert.True((status == LedgerItemStatus.Cleared) == acceptedByTierAbove, $"seed {seed}: cleared {status == LedgerItemStatus.Cleared}, accepted {acceptedByTierAbove}");
        }
    }

    [Fact]
    public void IsOverdue_FromMidnightChinaTimeAfterTheDeadline_WhileNotCleared()
    {
        var from = new DateTimeOffset(2026, 6, 30, 16, 0, 0, TimeSpan.Zero);

        Assert.Equal(from, LedgerRules.OverdueFrom("2026-06-30"));
        Assert.False(LedgerRules.IsOverdue(LedgerItemStatus.Open, "2026-06-30", from.AddTicks(-1)));
        Assert.True(LedgerRules.IsOverdue(LedgerItemStatus.Open, "2026-06-30", from));
        Assert.True(LedgerRules.IsOverdue(LedgerItemStatus.FixReported, "2026-06-30", from));
        Assert.False(LedgerRules.IsOverdue(LedgerItemStatus.Cleared, "2026-06-30", from.AddYears(1)));
        Assert.Null(LedgerRules.OverdueFrom("2026-6-30"));
    }

    [Fact]
    public void CheckEntry_ValidListing_IsKeptTrimmedWithACanonicalPeriod()
    {
        var check = LedgerRules.CheckEntry(CatalogueIndex.Default, Entry(" 班子不团结 ", "2026-06-30"), s_now);

        Assert.True(check.IsValid, string.Join("; ", check.Violations.Select(static v => v.Description)));
        Assert.Equal(("班子不团结", "2026-Q1", "organisation"), (check.Entry!.Problem, check.Entry.Period, check.Entry.Category));
    }

    [Theory]
    [InlineData("period", "2026-Q3", RejectionReason.PeriodNotStarted)]
    [InlineData("period", "2026Q1", RejectionReason.MalformedPeriod)]
    [InlineData("category", "weather", RejectionReason.UnknownCategory)]
    [InlineData("category", "", RejectionReason.MissingField)]
    [InlineData("problem", "", RejectionReason.MissingField)]
    [InlineData("measure", "x\u0001", RejectionReason.MalformedRequest)]
    [InlineData("responsible", "101", RejectionReason.ValueTooLarge)]
    [InlineData("deadline", "30/06/2026", RejectionReason.MalformedRequest)]
    [InlineData("deadline", "1999-12-31", RejectionReason.MalformedRequest)]
    [InlineData("deadline", "", RejectionReason.MissingField)]
    public void CheckEntry_FieldBreakingARule_NamesTheField(string field, string value, RejectionReason reason)
    {
        var entry = Entry("problem", "2026-06-30");
        switch (field)
        {
            case "period": entry.Period = value; break;
            case "category": entry.Category = value; break;
            case "problem": entry.Problem = value; break;
            case "measure": entry.Measure = value; break;
            case "responsible": entry.Responsible = new string('人', int.Parse(value, CultureInfo.InvariantCulture)); break;
            default: entry.Deadline = value; break;
        }

        var violation = Assert.Single(LedgerRules.CheckEntry(CatalogueIndex.Default, entry, s_now).Violations);

        Assert.Equal(($"entry.{field}", reason), (violation.Field, violation.Reason));
    }

    [Fact]
    public void VerifyLedgerStep_OfflineWithTheSignersKey_AndNothingElse()
    {
        using var key = NodeSigningKey.FromPrivateKeyBytes(Enumerable.Repeat((byte)7, 32).ToArray());
        using var other = NodeSigningKey.FromPrivateKeyBytes(Enumerable.Repeat((byte)8, 32).ToArray());
        var step = new LedgerStep { NodeId = "370113001", HolderNodeId = "370113001003", UnitId = "370113001003", ItemId = "2", Kind = LedgerStepKind.Accepted, Sequence = 3 };
        var signed = SignedMessages.SignLedgerStep(step, key);

        var verification = SignedMessages.VerifyLedgerStep(signed, key.PublicKeyBytes);
        Assert.True(verification.IsValid, verification.Message);
        Assert.Equal(step, verification.Value);
        Assert.Equal(Digests.Sha256(signed.StepBytes.Span), verification.Digest);
        Assert.Equal(RejectionReason.UnknownSigner, SignedMessages.VerifyLedgerStep(signed, other.PublicKeyBytes).Reason);
        for (var i = 0; i < signed.StepBytes.Length; i++)
        {
            var bytes = signed.StepBytes.ToByteArray();
            bytes[i] ^= 0x01;
            Assert.False(SignedMessages.VerifyLedgerStep(new SignedLedgerStep { StepBytes = ByteString.CopyFrom(bytes), Signature = signed.Signature, KeyId = signed.KeyId }, key.PublicKeyBytes).IsValid);
        }

        // Domain separation: the same bytes signed as a review decision are not a ledger step.
        var asDecision = new SignedLedgerStep { StepBytes = signed.StepBytes, Signature = ByteString.CopyFrom(key.Sign(SignatureDomain.Decision, signed.StepBytes.Span)), KeyId = signed.KeyId };
        Assert.Equal(RejectionReason.BadSignature, SignedMessages.VerifyLedgerStep(asDecision, key.PublicKeyBytes).Reason);
    }

    [Fact]
    public void Validate_ReportTypingALedgerCount_IsComputedIndicatorNamingIt()
    {
        var validation = ReportValidator.Validate(CatalogueIndex.Default, "370113001001", "2026-Q1",
            [Reports.Count("party_members", 40), Reports.Count("rectification_overdue", 1)], s_now);

        var violation = Assert.Single(validation.Violations);
        Assert.Equal(("values[1].indicator_id", RejectionReason.ComputedIndicator), (violation.Field, violation.Reason));
        Assert.Contains("rectification_overdue", violation.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Tally_CountsItsItems_AsTheUnitsLedgerValues()
    {
        var tally = Tally("370113001001", ("2026-05-01", LedgerItemStatus.Open), ("2026-05-01", LedgerItemStatus.Cleared), ("2026-06-30", LedgerItemStatus.FixReported));

        var values = LedgerTallies.Values(CatalogueIndex.Default, tally).ToDictionary(static v => v.IndicatorId, static v => v.Count);

        Assert.Equal(new Dictionary<string, long> { ["rectification_closed"] = 1, ["rectification_listed"] = 3, ["rectification_overdue"] = 1 }, values);
        Assert.Equal(6ul, LedgerTallies.Version(tally));
        Assert.Empty(LedgerTallies.MisjudgedOverdue(tally, s_now));
        Assert.Single(LedgerTallies.MisjudgedOverdue(tally, new DateTimeOffset(2026, 7, 1, 0, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void Audit_SummaryMergingALedger_IsClean_AndAMisjudgedOverdueMarkIsCaught()
    {
        using var key = NodeSigningKey.FromPrivateKeyBytes(Enumerable.Repeat((byte)9, 32).ToArray());
        var tally = Tally("370113001001", ("2026-05-01", LedgerItemStatus.Open), ("2026-05-01", LedgerItemStatus.Cleared));
        var (summary, bundle) = Bundle(key, tally);

        Assert.Equal(2, summary.Contributions.Count(static c => c.SourceId == "370113001001"));
        Assert.Equal([ContributionKind.UnitReport, ContributionKind.Ledger], summary.Contributions.Select(static c => c.Kind));
        Assert.Null(SummaryChecks.Check(summary, CatalogueIndex.Default, s_now));
        var rate = summary.Aggregates.Single(static a => a.IndicatorId == "rectification_closure_rate");
        Assert.Equal((1L, 2L, 1u), (rate.Total, rate.DenominatorTotal, rate.UnitCount));
        var audit = Auditor.Audit(bundle, CatalogueIndex.Default, new Dictionary<string, byte[]> { ["370113001"] = key.PublicKeyBytes });
        Assert.True(audit.IsClean, string.Join("\n", audit.Differences));

        // A node calling an item on time that is past its deadline: the tally is its own, but the audit finds the mark wrong.
        var bent = tally.Clone();
        bent.Items[0].Overdue = false;
        var (_, bentBundle) = Bundle(key, bent);
        var bentAudit = Auditor.Audit(bentBundle, CatalogueIndex.Default, new Dictionary<string, byte[]> { ["370113001"] = key.PublicKeyBytes });
        Assert.Contains(bentAudit.Differences, static d => d.Contains("ledger item 1", StringComparison.Ordinal));

        // Without the tally the input is missing, as for any other.
        bundle.LedgerTallies.Clear();
        Assert.Contains(Auditor.Audit(bundle, CatalogueIndex.Default, new Dictionary<string, byte[]> { ["370113001"] = key.PublicKeyBytes }).Differences,
            static d => d.Contains("was not supplied", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_LedgerFiguresOfAUnitWithoutAReport_FitTheLeavesExpected_ButAUnitsLedgerCitedTwiceDoesNot()
    {
        var summary = SummaryBuilder.Build(new SummaryInputs("370113001", "township", Period.Parse("2026-Q1"), 7, s_now, CatalogueIndex.Default,
            [new HostedUnitInput("370113001002", null, [])], [])
        {
            Ledgers = [new LedgerInput(Tally("370113001002", ("2026-06-30", LedgerItemStatus.Open)), new byte[32])],
        });

        Assert.Equal(0u, summary.Coverage.ReportedLeafCount);
        Assert.Null(SummaryChecks.Check(summary, CatalogueIndex.Default, s_now));
        summary.Contributions.Add(summary.Contributions[0].Clone());
        Assert.Equal(RejectionReason.MalformedSummary, SummaryChecks.Check(summary, CatalogueIndex.Default, s_now)?.Reason);
    }

    [Fact]
    public void IsSingleLeaf_AVillageCitingItsOwnLedgerBesideItsReport_IsStillSingleLeaf()
    {
        var report = new Contribution { SourceId = "v1", Kind = ContributionKind.UnitReport, Version = 2 };
        var ledger = new Contribution { SourceId = "v1", Kind = ContributionKind.Ledger, Version = 3 };
        var summary = new Summary { NodeId = "v1", Coverage = new Coverage { ExpectedLeafCount = 1 }, Contributions = { report, ledger } };
        var silent = new Summary { NodeId = "v1", Coverage = new Coverage { ExpectedLeafCount = 1, SilentSourceIds = { "v1" } }, Contributions = { ledger } };

        Assert.True(ReviewRules.IsSingleLeaf(summary, "v1", out var cited));
        Assert.Equal(report, cited);
        Assert.True(ReviewRules.IsSingleLeaf(silent, "v1", out cited));
        Assert.Null(cited);
    }

    [Fact]
    public void Create_LedgerCountOnAFlagTwiceOrCategoryCodesRepeated_IsRefused()
    {
        var flag = CatalogueIndex.Default.Catalogue.Clone();
        flag.Indicators.Single(static i => i.Id == "soft_and_lax").LedgerCount = LedgerCount.Overdue;
        flag.Indicators.Single(static i => i.Id == "rectification_overdue").LedgerCount = LedgerCount.Unspecified;
        var twice = CatalogueIndex.Default.Catalogue.Clone();
        twice.Indicators.Single(static i => i.Id == "rectification_overdue").LedgerCount = LedgerCount.Listed;
        var codes = CatalogueIndex.Default.Catalogue.Clone();
        codes.LedgerCategories.Add(new Category { Code = "funds" });

        Assert.Throws<InvalidOperationException>(() => CatalogueIndex.Create(flag));
        Assert.Throws<InvalidOperationException>(() => CatalogueIndex.Create(twice));
        Assert.Throws<InvalidOperationException>(() => CatalogueIndex.Create(codes));
        Assert.Equal(7, CatalogueIndex.Default.LedgerCategories.Count);
    }

    private static LedgerEntry Entry(string problem, string deadline) => new()
    {
        Period = "2026-Q1",
        Category = "organisation",
        Problem = problem,
        Measure = "补选委员",
        Deadline = deadline,
        Responsible = "王建国",
    };

    private static LedgerTally Tally(string unitId, params (string Deadline, LedgerItemStatus Status)[] items) =>
        LedgerTallies.Build(unitId, "2026-Q1",
            items.Select((item, i) => new LedgerItemFacts(i + 1, item.Status, item.Deadline, 2, new byte[32], s_now.AddDays(-1))), s_now);

    /// <summary>A township's signed summary of one hosted unit's report and ledger, with the inputs an auditor needs.</summary>
    private static (Summary Summary, AuditBundle Bundle) Bundle(NodeSigningKey key, LedgerTally tally)
    {
        var report = new UnitReport { UnitId = tally.UnitId, Period = "2026-Q1", Version = 1, Values = { Reports.Count("party_members", 40) } };
        var tallyBytes = tally.ToByteArray();
        var summary = SummaryBuilder.Build(new SummaryInputs("370113001", "township", Period.Parse("2026-Q1"), 7, s_now, CatalogueIndex.Default,
            [new HostedUnitInput(tally.UnitId, report, Digests.Sha256(report.ToByteArray()))], [])
        {
            Ledgers = [new LedgerInput(tally, Digests.Sha256(tallyBytes))],
        });
        var bundle = new AuditBundle { Summary = SignedMessages.SignSummary(summary, key), UnitReports = { report.ToByteString() }, LedgerTallies = { ByteString.CopyFrom(tallyBytes) } };
        return (summary, bundle);
    }
}
