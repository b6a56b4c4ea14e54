/* `trainer devices`: the Vulkan devices this process sees, with the limits vkdp depends on. */
#include <getopt.h>
#include <stdio.h>

#include "vkdp/cli/cli.h"
#include "vkdp/vk/vk.h"

int cmd_devices(int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            printf("usage: trainer devices\n\n"
                   "Lists every Vulkan physical device this process sees: name, type, driver, memory,\n"
                   "subgroup size and the limits vkdp depends on (maxStorageBufferRange, workgroup\n"
                   "limits). The index is what --device N / VKDP_DEVICE=N select. Without either, the\n"
                   "trainer picks discrete > integrated > virtual > CPU, and ranks sharing a node take\n"
                   "device local_rank %% count.\n");
            return 0;
        }
        return 2;
    }
    int n = vkdp_devices_print(stdout);
    if (n == 0) {
        fprintf(stderr, "trainer devices: no Vulkan device found (install mesa-vulkan-drivers for lavapipe)\n");
        return 1;
    }
    return 0;
}
