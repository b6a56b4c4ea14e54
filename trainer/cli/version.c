/* `trainer --version`: this build's version and commit, and the versions of the Vulkan loader and
 * driver, MPI library, HDF5 and OpenSSL that this process actually runs with (not the headers it
 * was built against), for bug reports and cluster audits. */
#include <stdio.h>

#include "vkdp/cli/cli.h"
#include "vkdp/core/sha256.h"
#include "vkdp/dist/dist.h"
#include "vkdp/h5/h5.h"
#include "vkdp/vk/vk.h"
#include "vkdp_git_commit.h" /* generated: VKDP_GIT_COMMIT */

int vkdp_print_version(FILE *f)
{
    char loader[64], driver[768], mpi[512], hdf5[64];
    vkdp_vk_versions(loader, sizeof loader, driver, sizeof driver);
    vkdp_mpi_library_version(mpi, sizeof mpi);
    vkdp_h5_library_version(hdf5, sizeof hdf5);
    fprintf(f,
            "vkdp %s (%s)\n"
            "Vulkan loader: %s\n"
            "Vulkan driver: %s\n"
            "MPI:           %s\n"
            "HDF5:          %s\n"
            "OpenSSL:       %s\n",
            VKDP_VERSION, VKDP_GIT_COMMIT, loader, driver, mpi, hdf5, vkdp_openssl_version());
    if (fflush(f) != 0 || ferror(f)) {
        perror("trainer --version: writing the output");
        return 1;
    }
    return 0;
}
