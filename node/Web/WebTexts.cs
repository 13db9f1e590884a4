using System.Globalization;
using Federation.Protos.V1;

namespace Federation.Node.Web;

/// <summary>The page's two languages.</summary>
internal enum WebLanguage
{
    Zh,
    En,
}

/// <summary>
/// Every sentence the page shows, in Chinese and English, in one table: a missing key fails the build's
/// tests, not a person. Indicator and category names come from the catalogue, which has both.
/// </summary>
internal sealed class WebTexts
{
    public const string CookieName = "fed-lang";

    private static readonly Dictionary<string, (string Zh, string En)> s_texts = new(StringComparer.Ordinal)
    {
        ["app"] = ("基层党建数据", "Organisation-building figures"),
        ["nav.totals"] = ("总览", "Totals"),
        ["nav.drill"] = ("逐级下钻", "Drill-down"),
        ["nav.completeness"] = ("上报情况", "Completeness"),
        ["nav.laggards"] = ("后进名单", "Laggards"),
        ["nav.trends"] = ("趋势", "Trends"),
        ["nav.ratings"] = ("星级评定", "Star ratings"),
        ["nav.promotion"] = ("晋位升级", "Promotion"),
        ["nav.review"] = ("审核", "Review"),
        ["period"] = ("期间", "Period"),
        ["show"] = ("查看", "Show"),
        ["logout"] = ("退出", "Log out"),
        ["download"] = ("下载 Excel", "Download .xlsx"),
        ["print"] = ("打印本页：浏览器菜单 → 打印", "To print: the browser's Print"),
        ["login.title"] = ("登录", "Log in"),
        ["login.account"] = ("账号", "Account"),
        ["login.password"] = ("密码", "Password"),
        ["login.with-password"] = ("账号密码登录", "Log in with account and password"),
        ["login.with-token"] = ("令牌登录", "Log in with a token"),
        ["login.token"] = ("令牌（fed1.…）", "Token (fed1.…)"),
        ["login.submit"] = ("登录", "Log in"),
        ["login.failed"] = ("账号或密码不正确。", "Wrong account or password."),
        ["login.bad-token"] = ("令牌无效、已过期或已撤销。", "The token is not valid, has expired or was revoked."),
        ["login.not-person"] = ("该凭据不是个人账号。", "That credential is not a person's account."),
        ["login.throttled"] = ("登录失败次数过多，请 {0} 分钟后再试。", "Too many failed logins; try again in {0} minutes."),
        ["login.expired"] = ("会话已结束，请重新登录。", "Your session has ended; please log in again."),
        ["login.logged-out"] = ("已退出。", "You have logged out."),
        ["login.unavailable"] = ("节点暂时无法登录，请稍后再试。", "The node cannot log you in just now; try again shortly."),
        ["role.Clerk"] = ("填报员", "clerk"),
        ["role.Reviewer"] = ("审核员", "reviewer"),
        ["role.Reader"] = ("查阅", "reader"),
        ["role.Admin"] = ("管理员", "admin"),
        ["role.Unspecified"] = ("—", "—"),
        ["of"] = ("范围", "scope"),
        ["indicator"] = ("指标", "Indicator"),
        ["value"] = ("数值", "Value"),
        ["units-reported"] = ("上报单位数", "Units reported"),
        ["target"] = ("目标", "Target"),
        ["meeting"] = ("达标单位", "Units meeting"),
        ["status"] = ("状态", "Status"),
        ["met"] = ("达标", "met"),
        ["short"] = ("未达标", "short"),
        ["no-data"] = ("无数据", "no data"),
        ["per-unit"] = ("每单位", "per unit"),
        ["coverage"] = ("覆盖：{0}/{1} 个单位已上报（{2}），按时 {3}，已审核通过 {4}", "Coverage: {0} of {1} units reported ({2}), {3} on time, {4} approved"),
        ["unconfirmed"] = ("{0} 个单位的数据未确认最新，以下节点未及时应答：", "{0} units' figures are not confirmed fresh; these nodes did not answer in time:"),
        ["unconfirmed-units"] = ("{0} 个单位", "{0} units"),
        ["unconfirmed-more"] = ("另有 {0} 个节点", "and {0} more nodes"),
        ["never"] = ("从未收到", "never received"),
        ["silent"] = ("本期无数据的下级或单位：{0} 个", "Nodes or units with nothing for the period: {0}"),
        ["refresh"] = ("向下级拉取最新数据", "Pull fresh figures from below"),
        ["no-figures"] = ("本期暂无数据。", "No figures for this period yet."),
        ["totals.title"] = ("{0}（{1}）{2} 总览", "{0} ({1}), {2}: totals"),
        ["drill.title"] = ("{0}（{1}）{2} 下级情况", "{0} ({1}), {2}: the tier below"),
        ["rank"] = ("排名", "Rank"),
        ["code"] = ("编码", "Code"),
        ["name"] = ("名称", "Name"),
        ["kind"] = ("类型", "Kind"),
        ["kind.node"] = ("下级节点", "node"),
        ["kind.unit"] = ("所辖单位", "hosted unit"),
        ["reported"] = ("已报/应报", "Reported"),
        ["unmet"] = ("未达标指标", "Targets missed"),
        ["unmet-count"] = ("未达标项数", "Targets missed (count)"),
        ["sort-by"] = ("排序指标", "Rank by"),
        ["descending"] = ("从高到低", "highest first"),
        ["completeness.title"] = ("{0}（{1}）{2} 上报情况", "{0} ({1}), {2}: completeness"),
        ["due"] = ("截止时间：{0}", "Due: {0}"),
        ["nodes"] = ("各级节点", "Nodes"),
        ["tier"] = ("层级", "Tier"),
        ["expected"] = ("应报", "Expected"),
        ["on-time"] = ("按时", "On time"),
        ["rate"] = ("上报率", "Report rate"),
        ["freshness"] = ("数据状态", "Freshness"),
        ["fresh"] = ("最新", "fresh"),
        ["stale-as-of"] = ("未应答，截至 {0}", "did not answer; as of {0}"),
        ["unknown"] = ("未应答，状态未知", "did not answer; unknown"),
        ["missing"] = ("未上报单位", "Units not reported"),
        ["late"] = ("逾期上报单位", "Units reported late"),
        ["unknown-units"] = ("状态未知的单位（下级未应答）", "Units of unknown status (a node below did not answer)"),
        ["unknown-count"] = ("未知单位数", "Units unknown"),
        ["host"] = ("所属节点", "Host node"),
        ["received"] = ("收到时间", "Received"),
        ["missing-summary"] = ("未上报：已列出 {0} 个，另有 {1} 个单位因下级未应答而状态未知。", "Not reported: {0} listed, and {1} more units of unknown status below nodes that did not answer."),
        ["laggards.title"] = ("{0}（{1}）{2} 目标达成与后进名单", "{0} ({1}), {2}: targets and laggards"),
        ["targets"] = ("目标达成", "Targets"),
        ["lagging-count"] = ("后进单位数", "Units short"),
        ["laggards"] = ("后进单位", "Units short of targets"),
        ["trends.title"] = ("{0}（{1}）{2} 趋势", "{0} ({1}), {2}: trend"),
        ["from"] = ("从", "From"),
        ["to"] = ("到", "To"),
        ["chart-not-numeric"] = ("分类指标不绘制曲线，见下表。", "Category indicators are not charted; see the table."),
        ["review.title"] = ("{0}（{1}）{2} 审核", "{0} ({1}), {2}: review"),
        ["review.state"] = ("审核状态", "Review state"),
        ["approved"] = ("已审核/应审核", "Approved"),
        ["reason"] = ("理由", "Reason"),
        ["actions"] = ("操作", "Actions"),
        ["approve"] = ("通过", "Approve"),
        ["return"] = ("退回", "Return"),
        ["reopen"] = ("重新打开", "Reopen"),
        ["reason.placeholder"] = ("填写理由（必填）", "Reason (required)"),
        ["done.approve"] = ("已通过：{0}", "Approved: {0}"),
        ["done.return"] = ("已退回：{0}", "Returned: {0}"),
        ["done.reopen"] = ("已重新打开：{0}", "Reopened: {0}"),
        ["review.Unspecified"] = ("—", "—"),
        ["review.NotSubmitted"] = ("未上报", "not submitted"),
        ["review.Submitted"] = ("待审核", "submitted"),
        ["review.Returned"] = ("已退回", "returned"),
        ["review.Approved"] = ("已通过", "approved"),
        ["review.Withdrawn"] = ("已撤回", "withdrawn"),
        ["year"] = ("年度", "Year"),
        ["tier.city"] = ("市", "city"),
        ["tier.county"] = ("县（区）", "county"),
        ["tier.township"] = ("乡镇（街道）", "township"),
        ["tier.village"] = ("村（社区）", "village"),
        ["tier.unknown"] = ("层级未知", "tier unknown"),
        ["ratings.title"] = ("{0}（{1}）{2} 年星级评定", "{0} ({1}), {2}: star ratings"),
        ["ratings.none"] = ("{0}尚无 {1} 年星级评定。", "{0} has no star ratings for {1} yet."),
        ["ratings.below"] = ("下级节点的星级评定：", "Star ratings made by the nodes below:"),
        ["ranking"] = ("排名（晾晒排名）", "Ranking"),
        ["total-score"] = ("总分", "Total"),
        ["earned-stars"] = ("得分星级", "Stars earned"),
        ["awarded-stars"] = ("评定星级", "Stars awarded"),
        ["quota-effect"] = ("名额调整", "Quota"),
        ["quota.five"] = ("五星名额已满，由五星调为四星", "five-star quota full: lowered from five stars to four"),
        ["quota.three"] = ("三星及以下比例不足，由{0}星调为三星", "too few at three stars or below: lowered from {0} stars to three"),
        ["missing-sources"] = ("未录入（按 0 计）", "Not entered (counted 0)"),
        ["source.Monthly"] = ("月考核", "monthly"),
        ["source.Quarterly"] = ("季互查", "quarterly"),
        ["source.Annual"] = ("年述职", "annual"),
        ["source.Unspecified"] = ("—", "—"),
        ["no-star"] = ("无星", "no star"),
        ["stars.n"] = ("{0}星", "{0}★"),
        ["quotas.five"] = ("至多 {0} 五星：{1} 个", "at most {0} at five stars: {1}"),
        ["quotas.five-any"] = ("五星不限名额", "no cap on five stars"),
        ["quotas.count"] = ("{0} 个", "{0} units"),
        ["quotas.three"] = ("至少 {0}% 三星及以下：{1} 个", "at least {0}% at three stars or below: {1}"),
        ["quotas.applied"] = ("本次调整：五星调为四星 {0} 个，调为三星 {1} 个", "applied: {0} lowered from five stars to four, {1} lowered to three"),
        ["quotas"] = ("名额：{0}", "Quotas: {0}"),
        ["thresholds"] = ("星级分数线：{0}", "Minimum totals: {0}"),
        ["threshold"] = ("{0} ≥ {1} 分", "{0} ≥ {1}"),
        ["statement"] = ("评定方案：{0}（第 {1} 版）。本结果第 {2} 版，{3} 签发（{4} 录入评分引起），签名密钥 {5}。",
            "Scheme: {0} (version {1}). Statement version {2}, signed {3} after scores entered by {4}; key id {5}."),
        ["unrated"] = ("下级中尚未评分、未参加排名的：", "Directly below, without scores and not ranked:"),
        ["histogram"] = ("下辖星级分布（{0} 年，按被评单位层级）", "Stars across the subtree ({0}, by the tier of the units rated)"),
        ["histogram.none"] = ("下辖尚无 {0} 年星级评定汇总。", "Nobody below has rated for {0} yet."),
        ["rating-nodes"] = ("评定节点数", "Rating nodes"),
        ["rated-units"] = ("被评单位数", "Units rated"),
        ["flags"] = ("连续两年情形", "Two years running"),
        ["flags.compared"] = ("对比 {0} 年（第 {1} 版）与 {2} 年（第 {3} 版）的评定结果。", "Comparing the {0} statement (version {1}) with the {2} statement (version {3})."),
        ["flags.no-previous"] = ("{0} 年无评定结果可对比，因此没有连续两年的情形。", "No statement for {0} to compare with, so no unit is flagged."),
        ["flags.none"] = ("没有连续两年五星或连续两年三星及以下的单位。", "No unit at five stars, or at three or below, two years running."),
        ["flag"] = ("情形", "Flag"),
        ["flag.FiveStarsTwoYears"] = ("连续两年五星", "five stars two years running"),
        ["flag.ThreeOrBelowTwoYears"] = ("连续两年三星及以下", "three stars or below two years running"),
        ["flag.Unspecified"] = ("—", "—"),
        ["previous-stars"] = ("上年星级", "Last year"),
        ["stars-now"] = ("本年星级", "This year"),
        ["consequence"] = ("后果", "Consequence"),
        ["promotion.title"] = ("{0}（{1}）{2} → {3} 晋位升级", "{0} ({1}), {2} → {3}: promotion"),
        ["grades"] = ("各起始等次的去向", "Where each starting grade went"),
        ["grade"] = ("起始等次", "Starting grade"),
        ["started"] = ("单位数", "Units"),
        ["moved-up"] = ("晋位", "Moved up"),
        ["stayed"] = ("持平", "Stayed"),
        ["moved-down"] = ("下降", "Moved down"),
        ["share-up"] = ("晋位比例", "Share moved up"),
        ["not-moved"] = ("未晋位的单位", "Units that did not move up"),
        ["grade-change"] = ("等次变化", "Grade"),
        ["not-moved-omitted"] = ("另有 {0} 个未晋位的单位未列出。", "{0} more units that did not move up are not listed."),
        ["ungraded"] = ("任一期间缺少等次的单位：{0} 个（不计入上表）。", "Units without a grade in either period: {0} (not counted above)."),
        ["unanswered"] = ("未应答的下级节点", "Nodes below that did not answer"),
        ["unanswered.line"] = ("{0} 个下级节点未应答，其下 {1} 个单位未计入（既不算晋位，也不算未晋位）。",
            "{0} nodes below did not answer: their {1} units are not counted (neither as moved up nor as not)."),
        ["unanswered-omitted"] = ("另有 {0} 个未应答的下级节点未列出。", "{0} more nodes below that did not answer are not listed."),
        ["leaf-count"] = ("单位数", "Units"),
        ["target-percent"] = ("≥ {0}%", "≥ {0}%"),
        ["error.promotion-periods"] = ("起止期间须为同一类型，且结束期间晚于起始期间，例如 2025 → 2026。",
            "The two periods must be of the same type, the second after the first, e.g. 2025 → 2026."),
        ["error.year"] = ("年度须为一年，例如 2026。", "The year must be a year, e.g. 2026."),
        ["nav.ledger"] = ("整改台账", "Rectification ledger"),
        ["ledger.title"] = ("{0}（{1}）{2} 整改台账", "{0} ({1}), {2}: rectification ledger"),
        ["ledger.item-title"] = ("{0} 第 {1} 项整改问题", "{0}, ledger item {1}"),
        ["ledger.item-ref"] = ("{0} 第 {1} 项", "{0} item {1}"),
        ["ledger.below"] = ("下级整改情况", "The tier below"),
        ["ledger.items"] = ("整改问题（本期发现）", "Items (found in this period)"),
        ["ledger.item-no"] = ("编号", "No."),
        ["ledger.category"] = ("类别", "Category"),
        ["ledger.period"] = ("检查轮次", "Found in"),
        ["ledger.problem"] = ("存在问题", "Problem"),
        ["ledger.measure"] = ("整改措施", "Measure"),
        ["ledger.deadline"] = ("完成时限", "Deadline"),
        ["ledger.responsible"] = ("责任人", "Responsible"),
        ["ledger.last-note"] = ("最新说明", "Latest note"),
        ["ledger.held-at"] = ("台账所在节点", "Held at"),
        ["ledger.any-status"] = ("全部", "all"),
        ["ledger.overdue-only"] = ("只看逾期", "Overdue only"),
        ["ledger.overdue-status"] = ("{0}（逾期）", "{0} (overdue)"),
        ["ledger.status.Unspecified"] = ("—", "—"),
        ["ledger.status.Open"] = ("未整改", "open"),
        ["ledger.status.FixReported"] = ("已报整改，待验收", "fix reported, awaiting acceptance"),
        ["ledger.status.Cleared"] = ("已销号", "cleared"),
        ["ledger.no-items"] = ("没有符合条件的整改问题。", "No items match."),
        ["ledger.held-below"] = ("本节点不直接管辖单位：整改问题保存在管辖单位的节点，请从“下级整改情况”逐级查看。", "This node hosts no units: items are kept where their units are hosted; open a node in the tier below."),
        ["ledger.no-counts"] = ("本期尚无汇总数据，暂无计数。", "No figures for this period yet, so no counts."),
        ["ledger.unit-only"] = ("仅显示单位 {0} {1}", "Only unit {0} {1}"),
        ["ledger.all-units"] = ("显示全部单位", "Show every unit"),
        ["listing.more"] = ("列表较长：仅列出前 {0} 项，共 {1} 项。", "A long list: the first {0} of {1} are listed."),
        ["listing.more-unknown"] = ("列表较长：仅列出前 {0} 项，还有更多。", "A long list: only the first {0} are listed, and there are more."),
        ["ledger.more"] = ("仅列出前 {0} 项，还有更多：请缩小筛选范围。", "Only the first {0} items are listed and there are more: narrow the filters."),
        ["ledger.history"] = ("整改过程（每一步均经签名）", "History (every step signed)"),
        ["ledger.step-no"] = ("步骤", "Step"),
        ["ledger.step-kind"] = ("操作", "Action"),
        ["ledger.account"] = ("经办人", "Account"),
        ["ledger.time"] = ("时间", "Time"),
        ["ledger.note"] = ("说明或理由", "Note or reason"),
        ["ledger.signer"] = ("签署节点", "Signed by"),
        ["ledger.key"] = ("签名密钥", "Key id"),
        ["ledger.step.List"] = ("挂牌", "listed"),
        ["ledger.step.ListAbove"] = ("挂牌（上级发现）", "listed (by the tier above)"),
        ["ledger.step.FixReported"] = ("报告整改", "fix reported"),
        ["ledger.step.Accepted"] = ("验收销号", "accepted (cleared)"),
        ["ledger.step.SentBack"] = ("退回重改", "sent back"),
        ["ledger.step.Unspecified"] = ("—", "—"),
        ["ledger.back"] = ("返回整改台账", "Back to the ledger"),
        ["ledger.accept"] = ("验收销号", "Accept (clear)"),
        ["ledger.send-back"] = ("退回重改", "Send back"),
        ["done.accept"] = ("已验收销号：{0}", "Accepted and cleared: {0}"),
        ["done.send-back"] = ("已退回重改：{0}", "Sent back: {0}"),
        ["error.ledger-tier-above"] = ("只有上一级的审核员才能验收或退回整改问题：本单位不能给自己的问题销号。", "Only a reviewer of the tier above may accept or send back an item: a unit never clears its own problems."),
        ["error.ledger-unit"] = ("本节点不是该单位的上一级，应由其上一级验收。", "This node is not the tier above that unit; its own tier above decides."),
        ["error.unknown-item"] = ("没有这个整改问题。", "There is no such ledger item."),
        ["error.child-refused"] = ("下级节点拒绝了这一步（{0}），未作任何记录。", "The node below refused the step ({0}); nothing was recorded."),
        ["forbidden"] = ("您的账号无权查看此页面（超出范围或角色不允许）。", "Your account may not see this page (outside your scope, or not for your role)."),
        ["error.generic"] = ("出错了，请稍后再试。", "Something went wrong; please try again."),
        ["error.unavailable"] = ("节点或其下级暂时无法应答，请稍后再试。", "The node, or one below it, did not answer in time; try again shortly."),
        ["error.rate"] = ("请求过于频繁，请稍后再试。", "Too many requests; wait a moment and try again."),
        ["error.unknown-node"] = ("该节点不在本节点的下级范围内。", "That node is not below this one."),
        ["error.period"] = ("期间格式不正确，例如 2026、2026-H1、2026-Q1 或 2026-03。", "The period must look like 2026, 2026-H1, 2026-Q1 or 2026-03."),
        ["error.period-not-started"] = ("该期间尚未开始。", "That period has not started."),
        ["error.reason-required"] = ("请填写理由。", "Please give a reason."),
        ["error.locked"] = ("数据已审核通过并锁定，需先重新打开。", "The figures are approved and locked; reopen them first."),
        ["error.below-not-approved"] = ("下级单位尚未全部审核通过。", "Not every unit below is approved yet."),
        ["error.wrong-state"] = ("当前审核状态下不能这样操作。", "That decision does not apply in the current state."),
        ["error.child-unreachable"] = ("下级节点未应答，本次决定未生效，请重试。", "The node below did not answer; nothing was decided. Try again."),
        ["error.refused"] = ("节点拒绝了请求：{0}", "The node refused: {0}"),
        ["not-found"] = ("没有这个页面。", "There is no such page."),
        ["signed-in-as"] = ("{0}（{1}，{2}）", "{0} ({1} of {2})"),
        ["lang.other"] = ("English", "中文"),
    };

    private WebTexts(WebLanguage language) => Language = language;

    public static WebTexts Zh { get; } = new(WebLanguage.Zh);

    public static WebTexts En { get; } = new(WebLanguage.En);

    public WebLanguage Language { get; }

    /// <summary>"zh" or "en", for the lang attribute and links.</summary>
    public string Code => Language == WebLanguage.Zh ? "zh" : "en";

    public string OtherCode => Language == WebLanguage.Zh ? "en" : "zh";

    public static IEnumerable<string> Keys => s_texts.Keys;

    public static WebTexts For(WebLanguage language) => language == WebLanguage.Zh ? Zh : En;

    public string this[string key] => s_texts.TryGetValue(key, out var text) ? (Language == WebLanguage.Zh ? text.Zh : text.En) : key;

    public string Format(string key, params object[] arguments) => string.Format(CultureInfo.InvariantCulture, this[key], arguments);

    /// <summary>Joins the items of a list as the language writes one.</summary>
    public string List(IEnumerable<string> items) => string.Join(Language == WebLanguage.Zh ? "、" : ", ", items);

    public string Name(Indicator indicator) => Language == WebLanguage.Zh ? indicator.NameZh : indicator.NameEn;

    public string Name(Category category) => Language == WebLanguage.Zh ? category.NameZh : category.NameEn;

    public string Role(Role role) => this["role." + role];

    public string Review(ReviewStatus status) => this["review." + status];

    /// <summary>A tier label in the reader's words; a label the page does not know is shown as it is.</summary>
    public string Tier(string tier) => s_texts.ContainsKey("tier." + tier) ? this["tier." + tier] : tier;

    /// <summary>Stars as people write them: ★ once per star, or "no star".</summary>
    public string Stars(uint stars) => stars == 0 ? this["no-star"] : new string('★', (int)Math.Min(stars, 5));

    /// <summary>
    /// The language asked for: <c>?lang=</c> (then remembered in a cookie), the cookie, the first of
    /// Accept-Language's zh or en by preference, else Chinese.
    /// </summary>
    public static WebLanguage Resolve(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Parse(context.Request.Query["lang"]) is { } asked)
        {
            context.Response.Cookies.Append(CookieName, asked == WebLanguage.Zh ? "zh" : "en", new CookieOptions
            {
                HttpOnly = true,
                Secure = true,
                SameSite = SameSiteMode.Lax,
                MaxAge = TimeSpan.FromDays(365),
                IsEssential = true,
            });
            return asked;
        }

        if (Parse(context.Request.Cookies[CookieName]) is { } remembered)
        {
            return remembered;
        }

        var preferred = context.Request.GetTypedHeaders().AcceptLanguage
            .OrderByDescending(static l => l.Quality ?? 1)
            .Select(static l => l.Value.Value ?? string.Empty)
            .Select(static tag => tag.StartsWith("zh", StringComparison.OrdinalIgnoreCase) ? WebLanguage.Zh
                : tag.StartsWith("en", StringComparison.OrdinalIgnoreCase) ? WebLanguage.En : (WebLanguage?)null)
            .FirstOrDefault(static l => l is not null);
        return preferred ?? WebLanguage.Zh;
    }

    private static WebLanguage? Parse(string? value) => value switch
    {
        "zh" => WebLanguage.Zh,
        "en" => WebLanguage.En,
        _ => null,
    };
}
