"""A tiny H.264 encoder in pure Python for the tests of ``ra.Encoder``:
Baseline profile, every frame an IDR picture of I_PCM macroblocks (the
samples stored as they are, no compression), so its output is exact and
any conforming decoder — the helper's OpenH264 — shows the picture."""

from typing import List, Tuple


class _Bits:
    def __init__(self) -> None:
        self.out = bytearray()
        self.acc = 0
        self.count = 0

    def u(self, n: int, value: int) -> None:
        for i in reversed(range(n)):
            self.acc = (self.acc << 1) | ((value >> i) & 1)
            self.count += 1
            if self.count == 8:
                self.out.append(self.acc)
                self.acc = self.count = 0

    def ue(self, value: int) -> None:
        length = (value + 1).bit_length()
        self.u(length - 1, 0)
        self.u(length, value + 1)

    def se(self, value: int) -> None:
        self.ue(2 * value - 1 if value > 0 else -2 * value)

    def align_zero(self) -> None:
        while self.count:
            self.u(1, 0)

    def raw(self, data: bytes) -> None:
        assert self.count == 0
        self.out.extend(data)

    def trailing(self) -> bytes:
        self.u(1, 1)
        self.align_zero()
        return bytes(self.out)


def _nal(ref_idc: int, kind: int, rbsp: bytes) -> bytes:
    """A NAL unit with its start code, emulation prevention applied."""
    out = bytearray(b"\x00\x00\x00\x01")
    out.append((ref_idc << 5) | kind)
    zeros = 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def luma(b: int, g: int, r: int) -> float:
    """BT.601 studio-range luma of a pixel (16..235)."""
    return 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255


def planes(bgra: bytes, width: int, height: int, stride: int) -> Tuple[bytes, bytes, bytes]:
    """BGRA to 4:2:0 studio-range BT.601 Y, Cb, Cr planes (samples 1..254)."""
    def clamp(v: float) -> int:
        return min(254, max(1, int(round(v))))

    y = bytearray(width * height)
    cb = bytearray((width // 2) * (height // 2))
    cr = bytearray((width // 2) * (height // 2))
    for row in range(height):
        base = row * stride
        for col in range(width):
            b, g, r = bgra[base + 4 * col], bgra[base + 4 * col + 1], bgra[base + 4 * col + 2]
            y[row * width + col] = clamp(luma(b, g, r))
    for row in range(height // 2):
        for col in range(width // 2):
            sb = sg = sr = 0
            for dy in (0, 1):
                for dx in (0, 1):
                    p = (2 * row + dy) * stride + 4 * (2 * col + dx)
                    sb, sg, sr = sb + bgra[p], sg + bgra[p + 1], sr + bgra[p + 2]
            b, g, r = sb / 4, sg / 4, sr / 4
            cb[row * (width // 2) + col] = clamp(128 + (-37.797 * r - 74.203 * g + 112 * b) / 255)
            cr[row * (width // 2) + col] = clamp(128 + (112 * r - 93.786 * g - 18.214 * b) / 255)
    return bytes(y), bytes(cb), bytes(cr)


def encode_idr(bgra: bytes, width: int, height: int, stride: int, idr_pic_id: int) -> bytes:
    """One IDR access unit (SPS, PPS, slice) of a picture whose sides are
    multiples of 16."""
    assert width % 16 == 0 and height % 16 == 0
    sps = _Bits()
    sps.u(8, 66)  # profile_idc: Baseline
    sps.u(8, 0xC0)  # constraint_set0 and 1
    sps.u(8, 40)  # level_idc 4.0
    sps.ue(0)  # seq_parameter_set_id
    sps.ue(0)  # log2_max_frame_num_minus4
    sps.ue(2)  # pic_order_cnt_type
    sps.ue(1)  # max_num_ref_frames
    sps.u(1, 0)  # gaps_in_frame_num_value_allowed_flag
    sps.ue(width // 16 - 1)
    sps.ue(height // 16 - 1)
    sps.u(1, 1)  # frame_mbs_only_flag
    sps.u(1, 1)  # direct_8x8_inference_flag
    sps.u(1, 0)  # frame_cropping_flag
    sps.u(1, 0)  # vui_parameters_present_flag
    pps = _Bits()
    pps.ue(0)  # pic_parameter_set_id
    pps.ue(0)  # seq_parameter_set_id
    pps.u(1, 0)  # entropy_coding_mode_flag: CAVLC
    pps.u(1, 0)  # bottom_field_pic_order_in_frame_present_flag
    pps.ue(0)  # num_slice_groups_minus1
    pps.ue(0)  # num_ref_idx_l0_default_active_minus1
    pps.ue(0)  # num_ref_idx_l1_default_active_minus1
    pps.u(1, 0)  # weighted_pred_flag
    pps.u(2, 0)  # weighted_bipred_idc
    pps.se(0)  # pic_init_qp_minus26
    pps.se(0)  # pic_init_qs_minus26
    pps.se(0)  # chroma_qp_index_offset
    pps.u(1, 1)  # deblocking_filter_control_present_flag
    pps.u(1, 0)  # constrained_intra_pred_flag
    pps.u(1, 0)  # redundant_pic_cnt_present_flag
    y, cb, cr = planes(bgra, width, height, stride)
    half = width // 2
    slice_ = _Bits()
    slice_.ue(0)  # first_mb_in_slice
    slice_.ue(7)  # slice_type: I (all slices)
    slice_.ue(0)  # pic_parameter_set_id
    slice_.u(4, 0)  # frame_num
    slice_.ue(idr_pic_id & 0xFFFF)
    slice_.u(1, 0)  # no_output_of_prior_pics_flag
    slice_.u(1, 0)  # long_term_reference_flag
    slice_.se(0)  # slice_qp_delta
    slice_.ue(1)  # disable_deblocking_filter_idc
    for mby in range(height // 16):
        for mbx in range(width // 16):
            slice_.ue(25)  # mb_type: I_PCM
            slice_.align_zero()
            rows: List[bytes] = []
            for r in range(16):
                start = (16 * mby + r) * width + 16 * mbx
                rows.append(y[start:start + 16])
            for plane in (cb, cr):
                for r in range(8):
                    start = (8 * mby + r) * half + 8 * mbx
                    rows.append(plane[start:start + 8])
            slice_.raw(b"".join(rows))
    return (_nal(3, 7, sps.trailing()) + _nal(3, 8, pps.trailing())
            + _nal(3, 5, slice_.trailing()))
