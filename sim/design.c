/* Latin hypercube and Sobol designs in the unit hypercube. See a5_design.h. */
#include "a5_design.h"

#include "a5_error.h"
#include "a5_rng.h"

#include <gsl/gsl_qrng.h>
#include <stdlib.h>

int a5_design_lhs(long n, int k, uint64_t seed, double *u)
{
    gsl_rng *r = a5_rng_alloc();
    long *perm = malloc((size_t)n * sizeof *perm);
    if (!r || !perm) {
        gsl_rng_free(r);
        free(perm);
        return A5_ENOMEM;
    }
    a5_rng_seek(r, seed, 0xFFFFFFFFu, 0);
    for (int j = 0; j < k; j++) {
        for (long i = 0; i < n; i++)
            perm[i] = i;
        for (long i = n - 1; i > 0; i--) { /* Fisher-Yates */
            long m = (long)(gsl_rng_uniform(r) * (double)(i + 1));
            long t = perm[i];
            perm[i] = perm[m];
            perm[m] = t;
        }
        for (long i = 0; i < n; i++)
            u[i * k + j] = ((double)perm[i] + gsl_rng_uniform(r)) / (double)n;
    }
    gsl_rng_free(r);
    free(perm);
    return 0;
}

int a5_design_sobol(long n, int k, double *u)
{
    if (k < 1 || k > A5_DESIGN_SOBOL_MAX_DIM)
        return A5_ELIMIT;
    gsl_qrng *q = gsl_qrng_alloc(gsl_qrng_sobol, (unsigned)k);
    if (!q)
        return A5_ENOMEM;
    for (long i = 0; i < n; i++)
        gsl_qrng_get(q, u + i * k);
    gsl_qrng_free(q);
    return 0;
}

void a5_design_saltelli(const double *unit, long n, int k, double *out)
{
    for (long i = 0; i < n; i++) {
        const double *a = unit + (size_t)i * 2 * k, *b = a + k;
        double *row = out + (size_t)i * (size_t)(k + 2) * k;
        for (int r = 0; r < k + 2; r++) {
            for (int j = 0; j < k; j++)
                row[(size_t)r * k + j] = r == k + 1 ? b[j] : (r >= 1 && r - 1 == j) ? b[j] : a[j];
        }
    }
}
