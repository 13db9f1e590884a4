using System.Globalization;
using System.Text;
using Federation.Aggregator.Identifiers;
using Federation.Protos.V1;

namespace Federation.Aggregator.Import;

/// <summary>Why a cell cannot be read, in Chinese and English.</summary>
public readonly record struct CellProblem(string MessageZh, string MessageEn);

/// <summary>
/// What a spreadsheet cell may hold for each kind of indicator, as clerks type it. Pure.
/// Counts and measures: whole numbers, with thousands separators ("51,000") and a whole ".0" tail
/// (Excel's numbers) allowed; full-width digits ("５５"), letters in numbers ("3O") and negative
/// numbers are problems, with the value the clerk probably meant. Flags: 是/否, yes/no, y/n,
/// true/false, 1/0, √/×. Categories: the code, the Chinese or English name, and for star ratings
/// 五星 … 一星, 无星.
/// </summary>
public static class SheetCells
{
    private static readonly string[] s_yes = ["是", "yes", "y", "true", "1", "√", "✓", "✔", "有"];
    private static readonly string[] s_no = ["否", "no", "n", "false", "0", "×", "✗", "✘", "x", "无"];

    /// <summary>Reads one non-blank cell as a value of <paramref name="indicator"/>; null and a problem when it cannot.</summary>
    public static IndicatorValue? Parse(Indicator indicator, string raw, out CellProblem problem)
    {
        ArgumentNullException.ThrowIfNull(indicator);
        ArgumentNullException.ThrowIfNull(raw);
        problem = default;
        var text = raw.Trim();
        var value = new IndicatorValue { IndicatorId = indicator.Id };
        switch (indicator.Kind)
        {
            case ValueKind.Flag:
                if (ParseFlag(text) is { } flag)
                {
                    value.Flag = flag;
                    return value;
                }

                problem = new($"“{Echo.Of(text)}”不是是/否，请填写“是”或“否”", $"'{Echo.Of(text)}' is not yes or no; write 是 or 否 (yes or no)");
                return null;
            case ValueKind.Category:
                if (ParseCategory(indicator, text) is { } code)
                {
                    value.Category = code;
                    return value;
                }

                var allowed = string.Join("、", indicator.Categories.Select(static c => c.NameZh));
                var allowedEn = string.Join(", ", indicator.Categories.Select(static c => c.Code));
                problem = new($"“{Echo.Of(text)}”不是可选的类别（{allowed}）", $"'{Echo.Of(text)}' is not one of the categories ({allowedEn})");
                return null;
            case ValueKind.Count or ValueKind.Measure:
                if (ParseWhole(text, out problem) is not { } number)
                {
                    return null;
                }

                if (indicator.Kind == ValueKind.Count)
                {
                    value.Count = number;
                }
                else
                {
                    value.Measure = number;
                }

                return value;
            default:
                problem = new($"“{indicator.NameZh}”由其他指标计算得出，不能直接填写", $"'{indicator.Id}' is derived from other indicators and cannot be filled in");
                return null;
        }
    }

    /// <summary>A yes/no cell, or null.</summary>
    public static bool? ParseFlag(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim().ToLowerInvariant();
        if (s_yes.Contains(t))
        {
            return true;
        }

        return s_no.Contains(t) ? false : null;
    }

    /// <summary>The category code a cell names (code, Chinese or English name, 五星 … 无星), or null.</summary>
    public static string? ParseCategory(Indicator indicator, string text)
    {
        ArgumentNullException.ThrowIfNull(indicator);
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        foreach (var category in indicator.Categories)
        {
            if (t == category.Code || t == category.NameZh || string.Equals(t, category.NameEn, StringComparison.OrdinalIgnoreCase))
            {
                return category.Code;
            }
        }

        // Star ratings as people write them: 五星, 三星级, 无星, 5星级.
        if (t.EndsWith("星级", StringComparison.Ordinal))
        {
            t = t[..^1];
        }

        if (t.Length == 2 && t[1] == '星' && "零无一二两三四五".IndexOf(t[0], StringComparison.Ordinal) is var n and >= 0)
        {
            var digit = n switch { 0 or 1 => 0, 2 => 1, 3 or 4 => 2, 5 => 3, 6 => 4, _ => 5 };
            var code = digit.ToString(CultureInfo.InvariantCulture);
            return indicator.Categories.Any(c => c.Code == code) ? code : null;
        }

        return t.Length >= 2 && t[^1] == '星' && indicator.Categories.Any(c => c.Code == t[..^1]) ? t[..^1] : null;
    }

    /// <summary>A non-negative whole number, or null and a problem naming what the clerk probably meant.</summary>
    public static long? ParseWhole(string text, out CellProblem problem)
    {
        ArgumentNullException.ThrowIfNull(text);
        problem = default;
        var t = text.Trim();
        var echo = Echo.Of(t);
        if (t.Any(static c => c is >= '\uFF10' and <= '\uFF19' || c == '\uFF0C'))
        {
            var halfWidth = HalfWidth(t);
            problem = new($"“{echo}”含全角数字，请改为半角“{Echo.Of(halfWidth)}”", $"'{echo}' holds full-width digits; type '{Echo.Of(halfWidth)}'");
            return null;
        }

        if (IsScientific(t))
        {
            problem = new($"“{echo}”是科学计数法，Excel 可能已丢失末位数字；请填写完整整数",
                $"'{echo}' is in scientific notation, which Excel may have rounded; type the whole number");
            return null;
        }

        var digits = StripThousands(t);
        if (digits.EndsWith(".0", StringComparison.Ordinal) || digits.EndsWith(".00", StringComparison.Ordinal))
        {
            digits = digits[..digits.IndexOf('.', StringComparison.Ordinal)];
        }

        if (long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
        {
            if (number >= 0)
            {
                return number;
            }

            problem = new($"“{echo}”是负数，应为非负整数", $"'{echo}' is negative; a whole number of 0 or more is needed");
            return null;
        }

        if (decimal.TryParse(digits, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out _))
        {
            problem = new($"“{echo}”不是整数", $"'{echo}' is not a whole number");
            return null;
        }

        var guess = LettersAsDigits(digits);
        if (guess.Length > 0 && guess != digits && long.TryParse(guess, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            problem = new($"“{echo}”不是整数，是否应为“{guess}”？", $"'{echo}' is not a whole number; did you mean {guess}?");
            return null;
        }

        problem = new($"“{echo}”不是整数", $"'{echo}' is not a whole number");
        return null;
    }

    /// <summary>True for a number Excel wrote in scientific notation, e.g. "3.70124E+11".</summary>
    public static bool IsScientific(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        var e = t.IndexOfAny(['E', 'e']);
        return e > 0 && e < t.Length - 1 &&
            double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out _) &&
            t.Take(e).All(static c => char.IsAsciiDigit(c) || c == '.');
    }

    /// <summary>"51,000" as "51000"; text that is not grouped by threes is returned as it is.</summary>
    public static string StripThousands(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Contains(',', StringComparison.Ordinal))
        {
            return text;
        }

        var groups = text.Split(',');
        var wellFormed = groups[0].Length is >= 1 and <= 3 && groups[0].All(char.IsAsciiDigit) &&
            groups.Skip(1).Take(groups.Length - 2).All(static g => g.Length == 3 && g.All(char.IsAsciiDigit)) &&
            (groups[^1].Length == 3 && groups[^1].All(char.IsAsciiDigit) ||
             groups[^1].Length > 3 && groups[^1][3] == '.' && groups[^1][..3].All(char.IsAsciiDigit));
        return wellFormed ? string.Concat(groups) : text;
    }

    private static string HalfWidth(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(c switch
            {
                >= '\uFF10' and <= '\uFF19' => (char)('0' + (c - '\uFF10')),
                '\uFF0C' => ',',
                _ => c,
            });
        }

        return StripThousands(builder.ToString());
    }

    private static string LettersAsDigits(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(c switch
            {
                'O' or 'o' => '0',
                'l' or 'I' or 'i' => '1',
                'S' or 's' => '5',
                'B' => '8',
                'Z' or 'z' => '2',
                _ => c,
            });
        }

        return builder.ToString();
    }
}
