/* The HDF5 library this process runs with (not the headers it was built against), for --version. */
#include <stdio.h>

#include "vkdp/h5/h5.h"

void vkdp_h5_library_version(char *buf, size_t len)
{
    unsigned maj = 0, min = 0, rel = 0;
    if (H5get_libversion(&maj, &min, &rel) < 0)
        snprintf(buf, len, "unknown (H5get_libversion failed)");
    else
        snprintf(buf, len, "%u.%u.%u", maj, min, rel);
}
