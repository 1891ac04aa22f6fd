// A tiny H.264 encoder for the tests of Ra.Encoder (as the Python and C++
// tests have): Baseline profile, every frame an IDR picture of I_PCM
// macroblocks (the samples stored as they are), so any conforming decoder —
// the helper's OpenH264 — shows the picture.
using System;
using System.Collections.Generic;

static class PcmH264
{
    sealed class Bits
    {
        public readonly List<byte> Out = new List<byte>();
        int acc, count;

        public void U(int n, int value)
        {
            for (int i = n - 1; i >= 0; i--)
            {
                acc = (acc << 1) | ((value >> i) & 1);
                if (++count == 8) { Out.Add((byte)acc); acc = count = 0; }
            }
        }

        public void Ue(int value)
        {
            int length = 0;
            for (int v = value + 1; v != 0; v >>= 1) length++;
            U(length - 1, 0);
            U(length, value + 1);
        }

        public void Se(int value) => Ue(value > 0 ? 2 * value - 1 : -2 * value);

        public void AlignZero() { while (count != 0) U(1, 0); }

        public void Raw(byte[] data, int offset, int length)
        {
            for (int i = 0; i < length; i++) Out.Add(data[offset + i]);
        }

        public byte[] Trailing()
        {
            U(1, 1);
            AlignZero();
            return Out.ToArray();
        }
    }

    static void Nal(List<byte> output, int refIdc, int kind, byte[] rbsp)
    {
        output.AddRange(new byte[] { 0, 0, 0, 1, (byte)((refIdc << 5) | kind) });
        int zeros = 0;
        foreach (var b in rbsp)
        {
            if (zeros >= 2 && b <= 3) { output.Add(3); zeros = 0; }
            output.Add(b);
            zeros = b == 0 ? zeros + 1 : 0;
        }
    }

    static byte Clamp(double v) => (byte)Math.Min(254, Math.Max(1, (int)Math.Round(v)));

    /// One IDR access unit (SPS, PPS, slice) of a tightly packed BGRA picture
    /// whose sides are multiples of 16.
    public static byte[] EncodeIdr(byte[] bgra, int width, int height, int idrPicId)
    {
        if (width % 16 != 0 || height % 16 != 0) throw new ArgumentException("sides must be multiples of 16");
        int stride = width * 4, half = width / 2;
        var y = new byte[width * height];
        var cb = new byte[half * (height / 2)];
        var cr = new byte[half * (height / 2)];
        for (int row = 0; row < height; row++)
            for (int col = 0; col < width; col++)
            {
                int p = row * stride + 4 * col;
                y[row * width + col] = Clamp(16 + (65.481 * bgra[p + 2] + 128.553 * bgra[p + 1] + 24.966 * bgra[p]) / 255);
            }
        for (int row = 0; row < height / 2; row++)
            for (int col = 0; col < half; col++)
            {
                double sb = 0, sg = 0, sr = 0;
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++)
                    {
                        int p = (2 * row + dy) * stride + 4 * (2 * col + dx);
                        sb += bgra[p]; sg += bgra[p + 1]; sr += bgra[p + 2];
                    }
                double b = sb / 4, g = sg / 4, r = sr / 4;
                cb[row * half + col] = Clamp(128 + (-37.797 * r - 74.203 * g + 112 * b) / 255);
                cr[row * half + col] = Clamp(128 + (112 * r - 93.786 * g - 18.214 * b) / 255);
            }

        var sps = new Bits();
        sps.U(8, 66); sps.U(8, 0xC0); sps.U(8, 40); // Baseline, constraint_set0/1, level 4.0
        sps.Ue(0); sps.Ue(0); sps.Ue(2); sps.Ue(1); sps.U(1, 0);
        sps.Ue(width / 16 - 1); sps.Ue(height / 16 - 1);
        sps.U(1, 1); sps.U(1, 1); sps.U(1, 0); sps.U(1, 0);
        var pps = new Bits();
        pps.Ue(0); pps.Ue(0); pps.U(1, 0); pps.U(1, 0); pps.Ue(0); pps.Ue(0); pps.Ue(0);
        pps.U(1, 0); pps.U(2, 0); pps.Se(0); pps.Se(0); pps.Se(0); pps.U(1, 1); pps.U(1, 0); pps.U(1, 0);
        var slice = new Bits();
        slice.Ue(0); slice.Ue(7); slice.Ue(0); slice.U(4, 0); slice.Ue(idrPicId & 0xFFFF);
        slice.U(1, 0); slice.U(1, 0); slice.Se(0); slice.Ue(1);
        for (int mby = 0; mby < height / 16; mby++)
            for (int mbx = 0; mbx < width / 16; mbx++)
            {
                slice.Ue(25); // I_PCM
                slice.AlignZero();
                for (int r = 0; r < 16; r++) slice.Raw(y, (16 * mby + r) * width + 16 * mbx, 16);
                foreach (var plane in new[] { cb, cr })
                    for (int r = 0; r < 8; r++) slice.Raw(plane, (8 * mby + r) * half + 8 * mbx, 8);
            }
        var output = new List<byte>();
        Nal(output, 3, 7, sps.Trailing());
        Nal(output, 3, 8, pps.Trailing());
        Nal(output, 3, 5, slice.Trailing());
        return output.ToArray();
    }
}
