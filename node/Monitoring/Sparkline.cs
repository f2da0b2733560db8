using System.Text;

namespace CacheOperator.Node.Monitoring;

/// <summary>
/// An ASCII sparkline of labelled samples, as Redis's sparkline.c draws LATENCY GRAPH: several text rows per
/// sample height, each label written downwards under its column, long sequences wrapped every N columns.
/// </summary>
public sealed class Sparkline
{
    /// <summary>Columns of LATENCY GRAPH (Redis's LATENCY_GRAPH_COLS).</summary>
    public const int LatencyGraphColumns = 80;

    private const string Charset = "_-`";
    private const string FillCharset = "_o#";
    private const int LabelMarginTop = 1;

    private readonly List<(double Value, string? Label)> _samples = [];
    private double _min;
    private double _max;
    private int _labels;

    /// <summary>Adds a sample; an empty label is none.</summary>
    public void Add(double value, string? label)
    {
        label = string.IsNullOrEmpty(label) ? null : label;
        if (_samples.Count == 0)
        {
            _min = _max = value;
        }
        else if (value < _min)
        {
            _min = value;
        }
        else if (value > _max)
        {
            _max = value;
        }
        _samples.Add((value, label));
        if (label is not null)
        {
            _labels++;
        }
    }

    /// <summary>Appends the sequence, <paramref name="columns"/> samples per block, each <paramref name="rows"/> rows high.</summary>
    public void Render(StringBuilder output, int columns, int rows, bool fill)
    {
        for (int j = 0; j < _samples.Count; j += columns)
        {
            if (j != 0)
            {
                output.Append('\n');
            }
            RenderRange(output, rows, j, Math.Min(columns, _samples.Count - j), fill);
        }
    }

    private void RenderRange(StringBuilder output, int rows, int offset, int length, bool fill)
    {
        double range = _max - _min;
        if (range == 0)
        {
            range = 1;
        }
        int steps = Charset.Length * rows;
        var chars = new char[length];
        for (int row = 0; ; row++)
        {
            bool more = false;
            Array.Fill(chars, ' ');
            for (int j = 0; j < length; j++)
            {
                var (value, label) = _samples[j + offset];
                // C's "(int)(relval*steps)/relmax": the product is truncated before the division.
                int step = (int)((int)((value - _min) * steps) / range);
                step = Math.Clamp(step, 0, steps - 1);
                if (row < rows)
                {
                    int index = step - ((rows - row - 1) * Charset.Length);
                    more = true;
                    if (index >= 0 && index < Charset.Length)
                    {
                        chars[j] = fill ? FillCharset[index] : Charset[index];
                    }
                    else if (fill && index >= Charset.Length)
                    {
                        chars[j] = '|';
                    }
                }
                else
                {
                    // A blank line between the graph and the labels.
                    if (_labels > 0 && row - rows < LabelMarginTop)
                    {
                        more = true;
                        break;
                    }
                    int labelChar = row - rows - LabelMarginTop;
                    if (label is not null && label.Length > labelChar)
                    {
                        more = true;
                        chars[j] = label[labelChar];
                    }
                }
            }
            if (!more)
            {
                return;
            }
            output.Append(chars).Append('\n');
        }
    }
}
