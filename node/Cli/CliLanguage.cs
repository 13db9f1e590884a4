using System.CommandLine;
using Google.Rpc;
using Grpc.Core;

namespace Federation.Node.Cli;

/// <summary>
/// The language of the command line: <c>--lang zh|en</c> on any command, else the locale in LANG. A
/// refusal is one line in that language: the status, the reason code (the same in every language, for
/// scripts and for asking for help), a short Chinese gloss of the reason, and the node's own words.
/// </summary>
public static class CliLanguage
{
    /// <summary>zh or en, for every command.</summary>
    public static readonly Option<string?> Lang = new("--lang")
    {
        Description = "zh or en: the language of messages and tables (default: from LANG)",
        Recursive = true,
    };

    // The reasons a person meets, glossed; the rest keep the code and the node's words.
    private static readonly Dictionary<string, string> s_glossZh = new(StringComparer.Ordinal)
    {
        ["MISSING_FIELD"] = "缺少必填项",
        ["MALFORMED_PERIOD"] = "期别格式不对（应为 2026、2026-H1、2026-Q1 或 2026-03）",
        ["PERIOD_NOT_STARTED"] = "该期尚未开始",
        ["EMPTY_REPORT"] = "报告没有任何数据",
        ["UNKNOWN_INDICATOR"] = "指标目录中没有该指标",
        ["DERIVED_INDICATOR"] = "比率由两个计数自动计算，不能直接填报",
        ["DUPLICATE_INDICATOR"] = "同一指标填了两次",
        ["VALUE_KIND_MISMATCH"] = "数值类型与指标不符",
        ["NEGATIVE_VALUE"] = "不能为负数",
        ["VALUE_TOO_LARGE"] = "数值或内容超出上限",
        ["UNKNOWN_CATEGORY"] = "不是可选的类别",
        ["NUMERATOR_EXCEEDS_DENOMINATOR"] = "分子大于分母",
        ["UNKNOWN_UNIT"] = "本节点不代管该单位",
        ["UNKNOWN_NODE"] = "下级中没有该节点",
        ["NO_FIGURES"] = "该期没有数据",
        ["ID_IN_USE"] = "编码已被使用",
        ["MALFORMED_ID"] = "编码格式不对",
        ["MALFORMED_REQUEST"] = "请求内容不对",
        ["PAGE_TOKEN_EXPIRED"] = "分页已失效，请重新查询",
        ["HISTORY_PRUNED"] = "该历史版本已按保留期限清理，无法再出具证明",
        ["MALFORMED_ADDRESS"] = "地址格式不对",
        ["MISSING_CREDENTIALS"] = "未提供令牌（--token 或 FEDERATION_TOKEN）",
        ["INVALID_TOKEN"] = "令牌无效",
        ["TOKEN_EXPIRED"] = "令牌已过期，请向管理员申请新令牌",
        ["TOKEN_REVOKED"] = "令牌已被吊销",
        ["UNKNOWN_TOKEN"] = "没有该令牌",
        ["ROLE_NOT_ALLOWED"] = "您的角色无权执行此操作",
        ["OUT_OF_SCOPE"] = "超出您的管辖范围",
        ["NOT_ENROLLED"] = "该节点未登记为下级",
        ["RATE_LIMITED"] = "请求过于频繁，请稍后再试",
        ["CONFLICTING_ANSWERS"] = "下级答复相互矛盾，未采信",
        ["FIELDS_DROPPED"] = "更正会删除原有数据项；如确需删除用 --replace，只改部分用 --update",
        ["MISSING_REQUIRED"] = "缺少本期必报指标",
        ["RULE_VIOLATED"] = "数据不符合校验规则",
        ["LOCKED"] = "已审核通过并锁定，须由审核人重新打开后才能修改",
        ["BELOW_NOT_APPROVED"] = "下级尚未全部审核通过",
        ["REASON_REQUIRED"] = "退回或重新打开须填写理由",
        ["WRONG_REVIEW_STATE"] = "当前审核状态下不能这样操作",
        ["CHILD_UNREACHABLE"] = "下级节点无法连接，未作任何决定",
        ["CHILD_REFUSED"] = "下级节点拒绝了该决定，未作任何决定",
        ["UNREADABLE_SHEET"] = "无法读取该表格文件",
        ["UNKNOWN_RATING_ITEM"] = "评分方案中没有该项目",
        ["POINTS_ABOVE_MAXIMUM"] = "分数超过该项目满分",
        ["NOT_DIRECTLY_BELOW"] = "只能评定直属下级",
        ["WRONG_PERIOD_TYPE"] = "期别类型不对",
        ["DUPLICATE_ENTRY"] = "同一请求中重复填写",
        ["STALE_VERSION"] = "版本已过时",
    };

    /// <summary>True for Chinese: --lang when given, else LANG (zh_CN.UTF-8 and the like).</summary>
    public static bool IsChinese(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        return IsChinese(parse.GetValue(Lang));
    }

    /// <summary>True for Chinese: <paramref name="lang"/> when given, else LANG.</summary>
    public static bool IsChinese(string? lang) =>
        (lang ?? Environment.GetEnvironmentVariable("LANG") ?? string.Empty).Trim().StartsWith("zh", StringComparison.OrdinalIgnoreCase);

    /// <summary>The word that starts an error line.</summary>
    public static string ErrorWord(bool chinese) => chinese ? "错误" : "error";

    /// <summary>One line for a refusal: status, reason code, (in Chinese) its gloss, and the node's message.</summary>
    public static string Describe(RpcException ex, bool chinese)
    {
        ArgumentNullException.ThrowIfNull(ex);
        var reason = ex.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason;
        var gloss = chinese && reason is not null && s_glossZh.TryGetValue(reason, out var zh) ? $"（{zh}）" : string.Empty;
        return $"{ErrorWord(chinese)} {ex.StatusCode}{(reason is null ? string.Empty : " " + reason)}{gloss}: {ex.Status.Detail}";
    }
}
