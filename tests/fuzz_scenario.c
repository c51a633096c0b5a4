/* libFuzzer target for the scenario loader: any bytes must give a scenario or
 * located errors, never a crash, hang, leak or unbounded allocation. */
#include "a5_scenario.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const sets[] = {"steps=3", "nations.*.threat=0.5"};
    a5_diag d = {0};
    a5_scenario *s = NULL;
    /* Alternate between plain loads and loads with --set overrides. */
    int nsets = size > 0 && (data[0] & 1) ? 2 : 0;
    a5_scenario_parse((const char *)data, size, "fuzz.yaml", sets, nsets, &d, &s);
    a5_scenario_free(s);
    a5_diag_free(&d);
    return 0;
}
