/* Comma-separated lists as arrays of strings; see include/vkdp/core/strlist.h. */
#include "vkdp/core/strlist.h"

#include <stdlib.h>
#include <string.h>

#include "vkdp/core/common.h"

int vkdp_split_csv(const char *csv, char ***out)
{
    char *copy = vkdp_xstrdup(csv), *save = NULL;
    char **v = NULL;
    int n = 0;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        v = vkdp_xrealloc(v, (size_t)(n + 1) * sizeof *v);
        v[n++] = vkdp_xstrdup(t);
    }
    free(copy);
    *out = v;
    return n;
}

void vkdp_free_strings(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}
