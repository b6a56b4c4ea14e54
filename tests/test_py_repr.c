/* Prints "<hex bits of a double> <vkdp_py_float_repr of it>" for edge cases and many random
 * doubles and float32 values; tests/report_csv_log.sh compares each line with Python's repr(). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "vkdp/core/common.h"
#include "vkdp/train/csv_log.h"

static void emit(double v)
{
    char buf[64];
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    vkdp_py_float_repr(v, buf, sizeof buf);
    printf("%016llx %s\n", (unsigned long long)bits, buf);
}

int main(void)
{
    static const double fixed[] = {0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1.5, 10.0, 100.0, 1e15, 1e16, 1e17,
                                   1.5e16, 9999999999999998.0, 1e-4, 1e-5, 0.00012345, 1.2345e-5,
                                   123456789.125, 1e300, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
                                   0.8746594190597534, 0.9100817441940308, 2.0 / 3.0, 1.0 / 3.0};
    for (size_t i = 0; i < VKDP_ARRAY_LEN(fixed); i++)
        emit(fixed[i]);
    emit(NAN);
    emit(INFINITY);
    emit(-INFINITY);
    test_rng r = {7};
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = test_rng_u64(&r);
        double v;
        memcpy(&v, &bits, sizeof v);
        if (isfinite(v))
            emit(v);
        /* metric-like values: float32 ratios and losses */
        emit((double)(float)((double)(bits >> 11) / (double)(1ull << 53)));
        emit((double)(bits % 100000) / 734.0);
        emit(ldexp((double)(bits % 1000), (int)(bits >> 56) % 80 - 40));
    }
    return ferror(stdout) ? 1 : 0;
}
