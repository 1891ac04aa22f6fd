// A tiny H.264 encoder for the tests of a C++ Encoder: every frame an IDR
// picture of I_PCM macroblocks (raw samples, Baseline profile, CAVLC), so
// OpenH264 on the helper decodes exactly what was sent, up to BGRA <-> YUV
// 4:2:0 (BT.601, limited range). Width and height: multiples of 16.
#ifndef RA_CPP_TEST_H264_PCM_HPP
#define RA_CPP_TEST_H264_PCM_HPP

#include <cstdint>
#include <vector>

#include "ra.h"

namespace pcm {

class Bits {
public:
    void bit(unsigned b) {
        current_ = static_cast<uint8_t>((current_ << 1) | (b & 1));
        if (++count_ == 8) {
            bytes_.push_back(current_);
            current_ = 0;
            count_ = 0;
        }
    }
    void bits(uint32_t value, int n) {
        for (int i = n - 1; i >= 0; --i) bit((value >> i) & 1);
    }
    void ue(uint32_t value) {
        uint32_t x = value + 1;
        int len = 0;
        for (uint32_t t = x; t > 1; t >>= 1) len++;
        bits(0, len);
        bits(x, len + 1);
    }
    void se(int32_t value) { ue(value <= 0 ? static_cast<uint32_t>(-2 * value) : static_cast<uint32_t>(2 * value - 1)); }
    void align_zero() {
        while (count_ != 0) bit(0);
    }
    void trailing() {
        bit(1);
        align_zero();
    }
    const std::vector<uint8_t>& bytes() const { return bytes_; }

private:
    std::vector<uint8_t> bytes_;
    uint8_t current_ = 0;
    int count_ = 0;
};

/// Appends a NAL unit (start code, header, payload with emulation prevention).
inline void nal(std::vector<uint8_t>& out, uint8_t header, const std::vector<uint8_t>& payload) {
    out.insert(out.end(), {0, 0, 0, 1, header});
    int zeros = 0;
    for (uint8_t b : payload) {
        if (zeros >= 2 && b <= 3) {
            out.push_back(3);
            zeros = 0;
        }
        out.push_back(b);
        zeros = b == 0 ? zeros + 1 : 0;
    }
}

inline uint8_t clamp(int v) { return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v); }

/// One frame (BGRA) as SPS + PPS + an IDR slice of I_PCM macroblocks.
inline std::vector<uint8_t> encode(const ra_frame& frame, uint32_t idr_id) {
    const uint32_t mbw = frame.width / 16, mbh = frame.height / 16;
    std::vector<uint8_t> out;
    Bits sps;
    sps.bits(66, 8);  // Baseline
    sps.bits(0, 8);   // constraint flags
    sps.bits(40, 8);  // level 4.0
    sps.ue(0);        // sps id
    sps.ue(0);        // log2_max_frame_num - 4
    sps.ue(2);        // pic_order_cnt_type
    sps.ue(1);        // max_num_ref_frames
    sps.bit(0);       // gaps
    sps.ue(mbw - 1);
    sps.ue(mbh - 1);
    sps.bit(1);  // frame_mbs_only
    sps.bit(1);  // direct_8x8_inference
    sps.bit(0);  // cropping
    sps.bit(0);  // vui
    sps.trailing();
    nal(out, 0x67, sps.bytes());
    Bits pps;
    pps.ue(0);  // pps id
    pps.ue(0);  // sps id
    pps.bit(0);  // CAVLC
    pps.bit(0);  // bottom_field_pic_order
    pps.ue(0);  // slice groups - 1
    pps.ue(0);  // num_ref_idx_l0 - 1
    pps.ue(0);  // num_ref_idx_l1 - 1
    pps.bit(0);  // weighted pred
    pps.bits(0, 2);
    pps.se(0);  // pic_init_qp - 26
    pps.se(0);  // pic_init_qs - 26
    pps.se(0);  // chroma_qp_index_offset
    pps.bit(1);  // deblocking_filter_control_present
    pps.bit(0);  // constrained_intra_pred
    pps.bit(0);  // redundant_pic_cnt_present
    pps.trailing();
    nal(out, 0x68, pps.bytes());
    Bits slice;
    slice.ue(0);          // first_mb_in_slice
    slice.ue(7);          // I slice, all
    slice.ue(0);          // pps id
    slice.bits(0, 4);     // frame_num
    slice.ue(idr_id & 1); // idr_pic_id
    slice.bit(0);         // no_output_of_prior_pics
    slice.bit(0);         // long_term_reference
    slice.se(0);          // slice_qp_delta
    slice.ue(1);          // disable_deblocking_filter_idc: off
    auto pixel = [&](uint32_t x, uint32_t y) { return frame.data + y * frame.stride + x * 4; };
    for (uint32_t my = 0; my < mbh; my++) {
        for (uint32_t mx = 0; mx < mbw; mx++) {
            slice.ue(25);  // I_PCM
            slice.align_zero();
            for (uint32_t y = 0; y < 16; y++) {
                for (uint32_t x = 0; x < 16; x++) {
                    const uint8_t* p = pixel(mx * 16 + x, my * 16 + y);
                    int b = p[0], g = p[1], r = p[2];
                    slice.bits(clamp(16 + ((66 * r + 129 * g + 25 * b + 128) >> 8)), 8);
                }
            }
            for (int plane = 0; plane < 2; plane++) {
                for (uint32_t y = 0; y < 8; y++) {
                    for (uint32_t x = 0; x < 8; x++) {
                        int b = 0, g = 0, r = 0;
                        for (uint32_t dy = 0; dy < 2; dy++) {
                            for (uint32_t dx = 0; dx < 2; dx++) {
                                const uint8_t* p = pixel(mx * 16 + x * 2 + dx, my * 16 + y * 2 + dy);
                                b += p[0];
                                g += p[1];
                                r += p[2];
                            }
                        }
                        b /= 4;
                        g /= 4;
                        r /= 4;
                        int v = plane == 0 ? 128 + ((-38 * r - 74 * g + 112 * b + 128) >> 8)
                                           : 128 + ((112 * r - 94 * g - 18 * b + 128) >> 8);
                        slice.bits(clamp(v), 8);
                    }
                }
            }
        }
    }
    slice.trailing();
    nal(out, 0x65, slice.bytes());
    return out;
}

}  // namespace pcm

#endif
