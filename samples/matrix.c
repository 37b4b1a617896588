#include <stdio.h>
#include <stdlib.h>

/* Multiply two n x n matrices stored row-major. */
static void matmul(const double *a, const double *b, double *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            double sum = 0.0;
            for (size_t k = 0; k < n; k++) sum += a[i * n + k] * b[k * n + j];
            out[i * n + j] = sum;
        }
    }
}

int main(void) {
    double a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8}, c[4];
    matmul(a, b, c, 2);
    printf("%g %g\n%g %g\n", c[0], c[1], c[2], c[3]);
    return EXIT_SUCCESS;
}
