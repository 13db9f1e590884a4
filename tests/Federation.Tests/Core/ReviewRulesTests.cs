using System.Globalization;
using Federation.Aggregator;
using Federation.Aggregator.Review;
using Federation.Aggregator.Signing;
using Federation.Protos.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Tests.Core;

/// <summary>
/// The review state machine and the signed decision statement. The property test walks random decision
/// sequences; a failure names the seed (replay with FEDERATION_PROPERTY_SEED).
/// </summary>
public sealed class ReviewRulesTests
{
    private const int Rounds = 300;
    private static readonly int s_baseSeed = Environment.GetEnvironmentVariable("FEDERATION_PROPERTY_SEED") is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : 3107;

    [Theory]
    [InlineData(ReviewState.Submitted, DecisionKind.Approve, "", ReviewState.Approved)]
    [InlineData(ReviewState.Submitted, DecisionKind.Return, "wrong figures", ReviewState.Returned)]
    [InlineData(ReviewState.Approved, DecisionKind.Reopen, "recount", ReviewState.Submitted)]
    [InlineData(ReviewState.Submitted, DecisionKind.Withdraw, "", ReviewState.Withdrawn)]
    [InlineData(ReviewState.Returned, DecisionKind.Withdraw, "", ReviewState.Withdrawn)]
    public void Decide_AllowedStep_LeavesTheNextState(ReviewState current, DecisionKind kind, string reason, ReviewState next)
    {
        var step = ReviewRules.Decide(current, kind, reason, lockedAbove: false);

        Assert.True(step.IsAllowed, step.Message);
        Assert.Equal(next, step.Next);
    }

    [Theory]
    [InlineData(ReviewState.Approved, DecisionKind.Return, "late", RejectionReason.Locked)]
    [InlineData(ReviewState.Approved, DecisionKind.Withdraw, "", RejectionReason.Locked)]
    [InlineData(ReviewState.Approved, DecisionKind.Approve, "", RejectionReason.WrongReviewState)]
    [InlineData(ReviewState.Returned, DecisionKind.Approve, "", RejectionReason.WrongReviewState)]
    [InlineData(ReviewState.Submitted, DecisionKind.Reopen, "why", RejectionReason.WrongReviewState)]
    [InlineData(ReviewState.Approved, DecisionKind.Reopen, "", RejectionReason.ReasonRequired)]
    [InlineData(ReviewState.Approved, DecisionKind.Reopen, " \t", RejectionReason.ReasonRequired)]
    [InlineData(ReviewState.Submitted, DecisionKind.Return, "", RejectionReason.ReasonRequired)]
    [InlineData(ReviewState.NotSubmitted, DecisionKind.Approve, "", RejectionReason.NoFigures)]
    [InlineData(ReviewState.Withdrawn, DecisionKind.Withdraw, "", RejectionReason.WrongReviewState)]
    public void Decide_RefusedStep_SaysWhy(ReviewState current, DecisionKind kind, string reason, RejectionReason expected)
    {
        var step = ReviewRules.Decide(current, kind, reason, lockedAbove: false);

        Assert.False(step.IsAllowed);
        Assert.Equal(expected, step.Reason);
    }

    [Fact]
    public void Decide_AnySequence_ApprovedFiguresChangeOnlyAfterAReopenWithAReason()
    {
        for (var round = 0; round < Rounds; round++)
        {
            var seed = s_baseSeed + round;
            var rng = new Random(seed);
            var state = ReviewState.Submitted;
            var lockedAbove = false;
            for (var i = 0; i < 20; i++)
            {
                var kind = (DecisionKind)rng.Next(1, 5);
                var reason = rng.Next(3) == 0 ? string.Empty : "reason";
                if (rng.Next(6) == 0)
                {
                    lockedAbove = !lockedAbove;
                }

                var submit = ReviewRules.Submit(state, lockedAbove);
                Assert.True(submit.IsAllowed == (state != ReviewState.Approved && !lockedAbove), $"seed {seed}: a correction in {state}, locked above {lockedAbove}");
                var step = ReviewRules.Decide(state, kind, reason, lockedAbove);
                if (!step.IsAllowed)
                {
                    continue;
                }

                Assert.False(lockedAbove, $"seed {seed}: {kind} applied under a lock from above");
                if (state == ReviewState.Approved)
                {
                    Assert.True(kind == DecisionKind.Reopen && reason.Length > 0, $"seed {seed}: {kind} changed approved figures");
                }

                state = step.Next == ReviewState.Withdrawn ? ReviewState.Submitted : step.Next;
            }
        }
    }

    [Fact]
    public void Current_ReturnedThenCorrected_IsSubmittedAgain()
    {
        var record = new ReviewRecord(ReviewState.Returned, [1, 2, 3], 0);

        Assert.Equal(ReviewState.Returned, ReviewRules.Current(record, [1, 2, 3]));
        Assert.Equal(ReviewState.Submitted, ReviewRules.Current(record, [4, 5, 6]));
        Assert.Equal(ReviewState.Submitted, ReviewRules.Current(null, [4]));
        Assert.Equal(ReviewState.NotSubmitted, ReviewRules.Current(null, null));
        Assert.Equal(ReviewState.Withdrawn, ReviewRules.Current(new ReviewRecord(ReviewState.Withdrawn, [1], 0), null));
    }

    [Theory]
    [InlineData(ReviewState.Submitted, false, DecisionKind.Approve, "", ReviewState.Approved)]
    [InlineData(ReviewState.Submitted, false, DecisionKind.Return, "recount", ReviewState.Returned)]
    [InlineData(ReviewState.Approved, true, DecisionKind.Reopen, "recount", ReviewState.Submitted)]
    [InlineData(ReviewState.Approved, false, DecisionKind.Approve, "", ReviewState.Approved)]
    public void DecideFromAbove_AllowedStep_LeavesTheNextState(ReviewState state, bool decidedAbove, DecisionKind kind, string reason, ReviewState next)
    {
        var step = ReviewRules.DecideFromAbove(new ReviewRecord(state, [1], 1, decidedAbove), [1], kind, reason, lockedAbove: false);

        Assert.True(step.IsAllowed, step.Message);
        Assert.Equal(next, step.Next);
    }

    [Theory]
    [InlineData(ReviewState.Submitted, false, DecisionKind.Withdraw, "", false, RejectionReason.WrongReviewState)]
    [InlineData(ReviewState.Approved, false, DecisionKind.Reopen, "recount", false, RejectionReason.WrongReviewState)]
    [InlineData(ReviewState.Approved, false, DecisionKind.Return, "recount", false, RejectionReason.Locked)]
    [InlineData(ReviewState.Approved, true, DecisionKind.Approve, "", false, RejectionReason.WrongReviewState)]
    [InlineData(ReviewState.Returned, true, DecisionKind.Approve, "", false, RejectionReason.WrongReviewState)]
    [InlineData(ReviewState.Submitted, false, DecisionKind.Return, " ", false, RejectionReason.ReasonRequired)]
    [InlineData(ReviewState.Submitted, false, DecisionKind.Approve, "", true, RejectionReason.Locked)]
    [InlineData(ReviewState.Approved, false, DecisionKind.Approve, "", true, RejectionReason.Locked)]
    public void DecideFromAbove_RefusedStep_SaysWhy(ReviewState state, bool decidedAbove, DecisionKind kind, string reason, bool lockedAbove, RejectionReason expected)
    {
        var step = ReviewRules.DecideFromAbove(new ReviewRecord(state, [1], 1, decidedAbove), [1], kind, reason, lockedAbove);

        Assert.False(step.IsAllowed);
        Assert.Equal(expected, step.Reason);
    }

    [Fact]
    public void ApprovedAbove_OnlyAnApprovalOfTheTierAbove_LocksTheUnitHere()
    {
        Assert.True(ReviewRules.ApprovedAbove(new ReviewRecord(ReviewState.Approved, [1], 1, DecidedAbove: true)));
        Assert.False(ReviewRules.ApprovedAbove(new ReviewRecord(ReviewState.Approved, [1], 1)));
        Assert.False(ReviewRules.ApprovedAbove(new ReviewRecord(ReviewState.Returned, [1], 0, DecidedAbove: true)));
        Assert.False(ReviewRules.ApprovedAbove(null));
    }

    [Fact]
    public void IsSingleLeaf_OneUnitWithTheChildsOwnIdAndNothingElse_CitesItsReport()
    {
        var report = new Contribution { SourceId = "v1", Kind = ContributionKind.UnitReport, Version = 3, Digest = ByteString.CopyFrom(new byte[32]) };
        Summary Of(uint expected, IEnumerable<Contribution> contributions, params string[] silent)
        {
            var summary = new Summary { NodeId = "v1", Coverage = new Coverage { ExpectedLeafCount = expected } };
            summary.Contributions.AddRange(contributions);
            summary.Coverage.SilentSourceIds.AddRange(silent);
            return summary;
        }

        Assert.True(ReviewRules.IsSingleLeaf(Of(1, [report]), "v1", out var cited));
        Assert.Equal(report, cited);
        Assert.True(ReviewRules.IsSingleLeaf(Of(1, [], "v1"), "v1", out cited));
        Assert.Null(cited);
        Assert.False(ReviewRules.IsSingleLeaf(Of(1, [report]), "v2", out _));
        Assert.False(ReviewRules.IsSingleLeaf(Of(2, [report], "v1-b"), "v1", out _));
        Assert.False(ReviewRules.IsSingleLeaf(Of(1, [new Contribution { SourceId = "v1-a", Kind = ContributionKind.UnitReport }]), "v1", out _));
        Assert.False(ReviewRules.IsSingleLeaf(Of(1, [new Contribution { SourceId = "v1", Kind = ContributionKind.ChildSummary }]), "v1", out _));
        Assert.False(ReviewRules.IsSingleLeaf(Of(1, [], "v1-a"), "v1", out _));
    }

    [Fact]
    public void BelowApproved_NotEveryLeafApproved_IsRefused()
    {
        Assert.Equal(RejectionReason.BelowNotApproved, ReviewRules.BelowApproved(new Coverage { ExpectedLeafCount = 3, ReportedLeafCount = 3, ApprovedLeafCount = 2 }).Reason);
        Assert.Equal(RejectionReason.BelowNotApproved, ReviewRules.BelowApproved(new Coverage()).Reason);
        Assert.True(ReviewRules.BelowApproved(new Coverage { ExpectedLeafCount = 3, ReportedLeafCount = 3, ApprovedLeafCount = 3 }).IsAllowed);
    }

    [Fact]
    public void VerifyDecision_AsSigned_VerifiesOfflineWithThePublicKey()
    {
        using var key = NodeSigningKey.FromPrivateKeyBytes(Enumerable.Repeat((byte)7, 32).ToArray());
        var signed = SignedMessages.SignDecision(Sample(), key);

        var verification = SignedMessages.VerifyDecision(signed, key.PublicKeyBytes);

        Assert.True(verification.IsValid, verification.Message);
        Assert.Equal(Sample(), verification.Value);
        Assert.True(NodeSigningKey.VerifyRaw(key.PublicKeyBytes, [.. "federation.v1.Decision"u8, 0, .. signed.DecisionBytes.Span], signed.Signature.Span));
    }

    [Fact]
    public void VerifyDecision_TamperedWrongKeyOrOtherDomain_IsRefused()
    {
        using var key = NodeSigningKey.FromPrivateKeyBytes(Enumerable.Repeat((byte)7, 32).ToArray());
        using var other = NodeSigningKey.FromPrivateKeyBytes(Enumerable.Repeat((byte)8, 32).ToArray());
        var signed = SignedMessages.SignDecision(Sample(), key);
        var tampered = signed.Clone();
        var bytes = signed.DecisionBytes.ToByteArray();
        bytes[^1] ^= 1;
        tampered.DecisionBytes = ByteString.CopyFrom(bytes);
        var asSummary = new SignedDecision
        {
            DecisionBytes = signed.DecisionBytes,
            Signature = ByteString.CopyFrom(key.Sign(SignatureDomain.Summary, signed.DecisionBytes.Span)),
            KeyId = key.KeyId,
        };

        Assert.Equal(RejectionReason.BadSignature, SignedMessages.VerifyDecision(tampered, key.PublicKeyBytes).Reason);
        Assert.Equal(RejectionReason.UnknownSigner, SignedMessages.VerifyDecision(signed, other.PublicKeyBytes).Reason);
        Assert.Equal(RejectionReason.BadSignature, SignedMessages.VerifyDecision(asSummary, key.PublicKeyBytes).Reason);
    }

    private static Decision Sample() => new()
    {
        NodeId = "370113001",
        Kind = DecisionKind.Return,
        Subject = DecisionSubject.UnitReport,
        SubjectId = "370113001001",
        Period = "2026-Q1",
        SubjectVersion = 1,
        SubjectDigest = ByteString.CopyFrom(new byte[32]),
        Account = "reviewer-370113001",
        Reason = "party_members does not match the roll",
        DecideTime = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 4, 2, 9, 0, 0, TimeSpan.Zero)),
    };
}
