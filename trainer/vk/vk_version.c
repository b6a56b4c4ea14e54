/* The Vulkan loader's version and the driver of the device this process would pick, for
 * `trainer --version`: a missing driver is reported in the text, never fatal. */
#include <stdlib.h>

#include "vk_internal.h"

static void loader_version(char *buf, size_t len)
{
    PFN_vkEnumerateInstanceVersion eiv =
        (PFN_vkEnumerateInstanceVersion)vkGetInstanceProcAddr(NULL, "vkEnumerateInstanceVersion");
    uint32_t v = VK_API_VERSION_1_0; /* a 1.0 loader has no vkEnumerateInstanceVersion */
    VkResult r = eiv ? eiv(&v) : VK_SUCCESS;
    if (r != VK_SUCCESS)
        snprintf(buf, len, "unknown (vkEnumerateInstanceVersion: %s)", vkdp_vk_result_name(r));
    else
        snprintf(buf, len, "%u.%u.%u", VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v), VK_API_VERSION_PATCH(v));
}

static void picked_driver(char *buf, size_t len)
{
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .pApplicationName = "vkdp",
                             .apiVersion = VK_API_VERSION_1_1};
    VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
    VkInstance inst;
    VkResult r = vkCreateInstance(&ci, NULL, &inst);
    if (r != VK_SUCCESS) {
        snprintf(buf, len, "none (vkCreateInstance: %s; install mesa-vulkan-drivers or a GPU driver)",
                 vkdp_vk_result_name(r));
        return;
    }
    uint32_t n = 0;
    r = vkEnumeratePhysicalDevices(inst, &n, NULL);
    VkPhysicalDevice *pd = vkdp_xcalloc(n ? n : 1, sizeof *pd);
    if (r == VK_SUCCESS && n)
        r = vkEnumeratePhysicalDevices(inst, &n, pd);
    char why[256];
    vkdp_devsel sel;
    int class_rank;
    if (r != VK_SUCCESS && r != VK_INCOMPLETE)
        snprintf(buf, len, "none (vkEnumeratePhysicalDevices: %s)", vkdp_vk_result_name(r));
    else if (n == 0)
        snprintf(buf, len, "none (no Vulkan physical device)");
    else if (vk_choose_device(pd, n, NULL, 0, 0, 1, &sel, &class_rank, why, sizeof why) != 0)
        snprintf(buf, len, "none (%s)", why);
    else {
        vkdp_device_info in;
        vk_fill_info(pd[sel.index], sel.index, &in);
        snprintf(buf, len, "%s (device %d: %s, %s, Vulkan %u.%u.%u)", in.driver, sel.index, in.name, in.type_name,
                 VK_API_VERSION_MAJOR(in.api_version), VK_API_VERSION_MINOR(in.api_version),
                 VK_API_VERSION_PATCH(in.api_version));
    }
    free(pd);
    vkDestroyInstance(inst, NULL);
}

void vkdp_vk_versions(char *loader, size_t loader_len, char *driver, size_t driver_len)
{
    loader_version(loader, loader_len);
    picked_driver(driver, driver_len);
}
