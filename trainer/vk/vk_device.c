/* Instance (with validation when asked), the device each rank opens, and the logical device. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vk_internal.h"

long vk_env_long(const char *name, long dflt, long lo, long hi)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return dflt;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || errno || v < lo || v > hi)
        VKDP_FATAL("environment variable %s=%s is not an integer in %ld..%ld", name, s, lo, hi);
    return v;
}

void vkdp_device_opts_default(vkdp_device_opts *o)
{
    memset(o, 0, sizeof *o);
    o->ndevices = 0;
    o->local_rank = 0;
    o->local_size = 1;
    o->validation = -1;
    o->profile = 0;
}

static int layer_available(const char *name)
{
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0)
        return 0;
    VkLayerProperties *p = vkdp_xcalloc(n, sizeof *p);
    VK_CHECK(vkEnumerateInstanceLayerProperties(&n, p));
    int found = 0;
    for (uint32_t i = 0; i < n; i++)
        if (!strcmp(p[i].layerName, name))
            found = 1;
    free(p);
    return found;
}

static VKAPI_ATTR VkBool32 VKAPI_CALL debug_cb(VkDebugUtilsMessageSeverityFlagBitsEXT sev,
                                               VkDebugUtilsMessageTypeFlagsEXT type,
                                               const VkDebugUtilsMessengerCallbackDataEXT *data,
                                               void *user)
{
    (void)type;
    vkdp_device *dev = user;
    if (sev & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) {
        /* A validation error is a bug in vkdp: fail loudly rather than compute garbage. */
        if (dev)
            dev->validation_errors++;
        VKDP_FATAL("Vulkan validation: %s", data->pMessage);
    }
    vkdp_warn("Vulkan validation: %s", data->pMessage);
    return VK_FALSE;
}

VkInstance vk_create_instance(int want_validation, vkdp_device *dev, VkDebugUtilsMessengerEXT *msgr)
{
    uint32_t api = VK_API_VERSION_1_1;
    PFN_vkEnumerateInstanceVersion eiv =
        (PFN_vkEnumerateInstanceVersion)vkGetInstanceProcAddr(NULL, "vkEnumerateInstanceVersion");
    if (eiv) {
        uint32_t v = 0;
        if (eiv(&v) == VK_SUCCESS && v >= VK_API_VERSION_1_2)
            api = VK_API_VERSION_1_2;
    }
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "vkdp",
        .applicationVersion = 1,
        .pEngineName = "vkdp",
        .apiVersion = api,
    };
    const char *layers[1] = {"VK_LAYER_KHRONOS_validation"};
    /* the second, provided by the validation layer, carries the synchronization switch */
    const char *exts[2] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME,
                           VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME};
    int validation = want_validation && layer_available(layers[0]);
    if ((want_validation == 1 || want_validation == 3) && !validation && dev)
        vkdp_warn("validation requested but VK_LAYER_KHRONOS_validation is not installed "
                  "(apt-get install vulkan-validationlayers)");
    /* 3: also synchronization validation (hazards between dispatches the recorder missed) */
    VkValidationFeatureEnableEXT sync = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
    int sync_validation = validation && want_validation == 3;
    VkValidationFeaturesEXT features = {
        .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
        .enabledValidationFeatureCount = 1,
        .pEnabledValidationFeatures = &sync,
    };
    VkInstanceCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pNext = sync_validation ? &features : NULL,
        .pApplicationInfo = &app,
        .enabledLayerCount = validation ? 1 : 0,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = validation ? 1 + (uint32_t)sync_validation : 0,
        .ppEnabledExtensionNames = exts,
    };
    VkInstance inst;
    VkResult r = vkCreateInstance(&ci, NULL, &inst);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER || r == VK_ERROR_INITIALIZATION_FAILED)
        VKDP_FATAL("no Vulkan driver could be loaded (vkCreateInstance: %s); install "
                   "mesa-vulkan-drivers for the CPU driver lavapipe, or a GPU driver",
                   vkdp_vk_result_name(r));
    VK_CHECK(r);
    *msgr = VK_NULL_HANDLE;
    if (validation) {
        PFN_vkCreateDebugUtilsMessengerEXT f = (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
            inst, "vkCreateDebugUtilsMessengerEXT");
        if (f) {
            VkDebugUtilsMessengerCreateInfoEXT mi = {
                .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
                .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                                   VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
                .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT,
                .pfnUserCallback = debug_cb,
                .pUserData = dev,
            };
            VK_CHECK(f(inst, &mi, NULL, msgr));
        }
    }
    return inst;
}

/* Explicit devices (opts, else VKDP_DEVICE) or the automatic choice (vkdp/vk/devsel.h). */
static int pick_device(VkInstance inst, const vkdp_device_opts *o, VkPhysicalDevice *out)
{
    uint32_t n = 0;
    VkPhysicalDevice *pd = vk_enumerate(inst, &n);
    vkdp_devsel sel;
    int class_rank;
    char err[512];
    if (vk_choose_device(pd, n, o->devices, o->ndevices, o->local_rank, o->local_size, &sel, &class_rank, err,
                         sizeof err))
        VKDP_FATAL("%s", err);
    if (sel.shared && o->local_rank == 0 && class_rank >= 2)
        vkdp_warn("%d ranks on this node share %d GPU(s): ranks on one GPU compete for it (start one "
                  "rank per GPU, or list devices with --device)", o->local_size, sel.candidates);
    *out = pd[sel.index];
    free(pd);
    return sel.index;
}

static void fill_and_check(vkdp_device *dev, int index)
{
    vk_fill_info(dev->phys, index, &dev->info);
    int qf = vk_compute_queue_family(dev->phys);
    if (qf < 0)
        VKDP_FATAL("device %d (%s) has no compute queue", index, dev->info.name);
    dev->queue_family = (uint32_t)qf;
}

vkdp_device *vkdp_device_create(const vkdp_device_opts *opts)
{
    vkdp_device_opts o;
    if (opts)
        o = *opts;
    else
        vkdp_device_opts_default(&o);

    /* lavapipe starts one thread per core in every process; ranks sharing a node split them. */
    if (!getenv("LP_NUM_THREADS") && o.local_size > 1) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        long t = cores / o.local_size;
        char buf[32];
        snprintf(buf, sizeof buf, "%ld", t < 1 ? 1 : t);
        if (setenv("LP_NUM_THREADS", buf, 1) != 0)
            VKDP_FATAL("setenv(LP_NUM_THREADS) failed: %s", vkdp_errno_str());
    }

    vkdp_device *dev = vkdp_xcalloc(1, sizeof *dev);
    int validation = o.validation;
    if (validation < 0)
        validation = (int)vk_env_long("VKDP_VALIDATION", -1, -1, 3);
#ifdef NDEBUG
    if (validation < 0)
        validation = 0;
#else
    if (validation < 0)
        validation = 2; /* on when installed, silently off otherwise */
#endif
    dev->instance = vk_create_instance(validation, dev, &dev->messenger);

    int index = pick_device(dev->instance, &o, &dev->phys);
    fill_and_check(dev, index);
    VkPhysicalDeviceFeatures have, want;
    vkGetPhysicalDeviceFeatures(dev->phys, &have);
    memset(&want, 0, sizeof want);
    want.shaderInt64 = have.shaderInt64;
    want.shaderFloat64 = have.shaderFloat64;
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = dev->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &prio,
    };
    /* Compiling only: ask the driver for register and spill counts of every pipeline. */
    const char *stats_ext = VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME;
    VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR stats = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR,
        .pipelineExecutableInfo = VK_TRUE,
    };
    dev->compile_only = o.compile_only;
    dev->capture_stats = o.compile_only && vk_has_extension(dev->phys, stats_ext);
    VkDeviceCreateInfo dci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext = dev->capture_stats ? &stats : NULL,
        .enabledExtensionCount = dev->capture_stats ? 1 : 0,
        .ppEnabledExtensionNames = &stats_ext,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &qci,
        .pEnabledFeatures = &want,
    };
    VK_CHECK(vkCreateDevice(dev->phys, &dci, NULL, &dev->device));
    vkGetDeviceQueue(dev->device, dev->queue_family, 0, &dev->queue);

    vk_memory_init(dev, o.compile_only);
    vk_xfer_init(dev);
    dev->block_size = 256ull << 20;
    if (dev->info.max_allocation_size && dev->block_size > dev->info.max_allocation_size)
        dev->block_size = dev->info.max_allocation_size;

    VkPipelineCacheCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
    VK_CHECK(vkCreatePipelineCache(dev->device, &pci, NULL, &dev->pcache));
    dev->profile = o.profile;
    return dev;
}

const vkdp_device_info *vkdp_device_get_info(const vkdp_device *dev) { return &dev->info; }

const void *vkdp_device_ops_data(const vkdp_device *dev) { return dev->ops_data; }
void vkdp_device_set_ops_data(vkdp_device *dev, const void *data) { dev->ops_data = data; }

uint64_t vkdp_max_binding_bytes(const vkdp_device *dev) { return dev->info.max_storage_buffer_range; }

void vkdp_pipelines_destroy(vkdp_device *dev);
void vkdp_blocks_destroy(vkdp_device *dev);

void vkdp_device_destroy(vkdp_device *dev)
{
    if (!dev)
        return;
    /* Nothing is ever submitted to a compile-only device (RADV's no-hardware device cannot wait). */
    if (!dev->compile_only)
        VK_CHECK(vkDeviceWaitIdle(dev->device));
    vkdp_pipelines_destroy(dev);
    vkDestroyPipelineCache(dev->device, dev->pcache, NULL);
    vk_xfer_destroy(dev);
    vkdp_blocks_destroy(dev);
    for (int i = 0; i < dev->nlabels; i++)
        free(dev->labels[i]);
    free(dev->labels);
    vkDestroyDevice(dev->device, NULL);
    if (dev->messenger) {
        PFN_vkDestroyDebugUtilsMessengerEXT f = (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
            dev->instance, "vkDestroyDebugUtilsMessengerEXT");
        if (f)
            f(dev->instance, dev->messenger, NULL);
    }
    vkDestroyInstance(dev->instance, NULL);
    free(dev);
}
