using System.Text;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Import;
using Federation.Node.Import;
using Federation.Tests.Infrastructure;

namespace Federation.Tests.Core;

/// <summary>Reading uploaded files: encodings, quoting, and damaged or hostile bytes that must never escape as an exception.</summary>
public sealed class SheetFileTests
{
    private static readonly HostedUnit[] s_hosted = [new("370113001001", "东村")];

    [Fact]
    public void Decode_Gbk_FallsBackFromStrictUtf8()
    {
        var bytes = Sheets.GbkCsv([["村名", "党员数"], ["东村", "45"]]);

        Assert.Equal("村名,党员数\r\n东村,45\r\n", SheetFile.Decode(bytes));
    }

    [Fact]
    public void Decode_Utf8WithBom_DropsTheBom()
    {
        Assert.Equal("党员数", SheetFile.Decode([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("党员数")]));
    }

    [Fact]
    public void ParseCsv_QuotedFields_KeepCommasQuotesAndLineBreaks()
    {
        var rows = SheetFile.ParseCsv("a,\"51,000\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",b\n");

        Assert.Equal(["a", "51,000", "say \"hi\""], rows[0]);
        Assert.Equal(["two\nlines", "b"], rows[1]);
    }

    [Fact]
    public void Read_RandomBytes_AreUnreadableOrHarmlessNeverAnException()
    {
        var rng = new Random(20261126);
        var valid = Sheets.Xlsx([["unit_id", "party_members"], ["370113001001", 4]]);
        for (var i = 0; i < 300; i++)
        {
            byte[] bytes;
            if (i % 2 == 0)
            {
                bytes = new byte[rng.Next(0, 4096)];
                rng.NextBytes(bytes);
            }
            else
            {
                // A real workbook with a few bytes flipped: damaged zips and XML.
                bytes = (byte[])valid.Clone();
                for (var f = rng.Next(1, 6); f > 0; f--)
                {
                    bytes[rng.Next(bytes.Length)] ^= (byte)(1 << rng.Next(8));
                }
            }

            foreach (var name in new[] { "f.xlsx", "f.csv" })
            {
                var sheets = SheetFile.Read(name, bytes, out var error);
                Assert.True(sheets is not null || error.Length > 0, $"seed 20261126, message {i}: no sheets and no reason");
                foreach (var sheet in sheets ?? [])
                {
                    SheetImport.Read(sheet, CatalogueIndex.Default, s_hosted);
                }
            }
        }
    }
}
