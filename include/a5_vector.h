/* Functions worth compiling for several vector widths.
 *
 * A5_VECTOR_CLONES makes GCC compile a function for AVX-512 (x86-64-v4), AVX2 and
 * the baseline, and pick one when the program starts (target_clones). The clones
 * give the same bits: they do the same IEEE operations per element, and nothing
 * is fused into FMAs (-ffp-contract=off). Define A5_NO_VECTOR_CLONES (CMake
 * option ALLIED5G_VECTOR_CLONES=OFF) for the baseline only. */
#ifndef A5_VECTOR_H
#define A5_VECTOR_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(A5_NO_VECTOR_CLONES)
#define A5_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define A5_VECTOR_CLONES
#endif

#endif
