/* SSE2 kernels for the byte shuffles the compiler does not vectorise by itself: the
 * shuffle of 8- and 16-byte items and the unshuffle of 16-byte items (filters.pyx drives
 * them and finishes what they leave with its plain loops).
 *
 * Both directions are byte transposes of a tile of V vectors of 16 bytes. One round of
 * unpacklo/unpackhi_epi8 over the pairs (x[j], x[j + V/2]) moves the tile's bytes by a
 * one-bit left rotation of their address (vector index, then byte index); a transpose
 * between items and lanes is a rotation by 4 bits, so four rounds do it.
 *
 * Each function handles items start <= i < stop in whole tiles of 16 items and returns
 * the item it stopped at (start when SSE2 is not available).
 */
#ifndef CZARR_SHUFFLE_SSE2_H
#define CZARR_SHUFFLE_SSE2_H

#include <stddef.h>
#include <stdint.h>

#if defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
#include <emmintrin.h>
#define CZARR_HAVE_SSE2 1

/* four rounds over a tile of V vectors (V a constant after inlining, so the tile stays in
 * registers as far as there are registers) */
#define CZARR_ROTATE4(x, V)                                                     \
    do {                                                                        \
        __m128i y_[V];                                                          \
        int r_, j_;                                                             \
        for (r_ = 0; r_ < 4; r_++) {                                            \
            for (j_ = 0; j_ < (V) / 2; j_++) {                                  \
                y_[2 * j_] = _mm_unpacklo_epi8((x)[j_], (x)[j_ + (V) / 2]);     \
                y_[2 * j_ + 1] = _mm_unpackhi_epi8((x)[j_], (x)[j_ + (V) / 2]); \
            }                                                                   \
            for (j_ = 0; j_ < (V); j_++) {                                      \
                (x)[j_] = y_[j_];                                               \
            }                                                                   \
        }                                                                       \
    } while (0)

#define CZARR_SHUFFLE_TILES(V)                                                           \
    for (i = start; i + 16 <= stop; i += 16) {                                           \
        __m128i x[V];                                                                    \
        for (j = 0; j < (V); j++) {                                                      \
            x[j] = _mm_loadu_si128((const __m128i*)(src + i * (V) + 16 * (size_t)j));    \
        }                                                                                \
        CZARR_ROTATE4(x, V);                                                             \
        for (j = 0; j < (V); j++) {                                                      \
            _mm_storeu_si128((__m128i*)(dest + (size_t)j * nitems + i), x[j]);           \
        }                                                                                \
    }
#endif

/* lane b of item i to dest[b * nitems + i], for 8- or 16-byte items */
static inline size_t czarr_shuffle_sse2(const uint8_t* src, uint8_t* dest, size_t nitems,
                                        size_t itemsize, size_t start, size_t stop) {
#ifdef CZARR_HAVE_SSE2
    size_t i = start;
    int j;
    if (itemsize == 8) {
        CZARR_SHUFFLE_TILES(8)
    } else if (itemsize == 16) {
        CZARR_SHUFFLE_TILES(16)
    }
    return i;
#else
    (void)src; (void)dest; (void)nitems; (void)itemsize; (void)stop;
    return start;
#endif
}

/* the inverse for 16-byte items: item i (i >= start) to dest[(i - start) * 16] */
static inline size_t czarr_unshuffle16_sse2(const uint8_t* src, uint8_t* dest,
                                            size_t nitems, size_t start, size_t stop) {
#ifdef CZARR_HAVE_SSE2
    size_t i;
    int j;
    for (i = start; i + 16 <= stop; i += 16) {
        __m128i x[16];
        for (j = 0; j < 16; j++) {
            x[j] = _mm_loadu_si128((const __m128i*)(src + (size_t)j * nitems + i));
        }
        CZARR_ROTATE4(x, 16);
        for (j = 0; j < 16; j++) {
            _mm_storeu_si128((__m128i*)(dest + (i - start) * 16 + 16 * (size_t)j), x[j]);
        }
    }
    return i;
#else
    (void)src; (void)dest; (void)nitems; (void)stop;
    return start;
#endif
}

#endif
