/* Instance, physical-device choice and logical device. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vk_internal.h"
#include "vkdp/core/errmsg.h"

static const char *type_name(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
    }
}

/* discrete > integrated > virtual > CPU */
static int type_rank(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 1;
    default: return 0;
    }
}

void vkdp_device_opts_default(vkdp_device_opts *o)
{
    memset(o, 0, sizeof *o);
    o->device_index = -1;
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

static VkInstance create_instance(int want_validation, vkdp_device *dev, VkDebugUtilsMessengerEXT *msgr)
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

static int compute_queue_family(VkPhysicalDevice p)
{
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(p, &n, NULL);
    VkQueueFamilyProperties *q = vkdp_xcalloc(n, sizeof *q);
    vkGetPhysicalDeviceQueueFamilyProperties(p, &n, q);
    int best = -1;
    /* Prefer a compute-only family (async compute engines), else any with compute. */
    for (uint32_t i = 0; i < n; i++)
        if ((q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && !(q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) &&
            q[i].timestampValidBits > 0) {
            best = (int)i;
            break;
        }
    if (best < 0)
        for (uint32_t i = 0; i < n; i++)
            if (q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
                best = (int)i;
                break;
            }
    free(q);
    return best;
}

void vk_fill_info(VkPhysicalDevice p, int index, vkdp_device_info *info)
{
    memset(info, 0, sizeof *info);
    VkPhysicalDeviceSubgroupProperties sg = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceDriverProperties drv = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceMaintenance3Properties m3 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES,
                                                 .pNext = &sg};
    VkPhysicalDeviceProperties base;
    vkGetPhysicalDeviceProperties(p, &base);
    if (base.apiVersion >= VK_API_VERSION_1_2)
        sg.pNext = &drv;
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &m3};
    vkGetPhysicalDeviceProperties2(p, &p2);
    const VkPhysicalDeviceLimits *l = &p2.properties.limits;
    snprintf(info->name, sizeof info->name, "%s", p2.properties.deviceName);
    info->type = p2.properties.deviceType;
    info->type_name = type_name(info->type);
    if (base.apiVersion >= VK_API_VERSION_1_2)
        snprintf(info->driver, sizeof info->driver, "%.120s %.120s", drv.driverName, drv.driverInfo);
    else
        snprintf(info->driver, sizeof info->driver, "driver version 0x%x", p2.properties.driverVersion);
    info->api_version = p2.properties.apiVersion;
    info->subgroup_size = sg.subgroupSize;
    info->max_storage_buffer_range = l->maxStorageBufferRange;
    info->max_allocation_size = m3.maxMemoryAllocationSize;
    info->max_workgroup_invocations = l->maxComputeWorkGroupInvocations;
    for (int i = 0; i < 3; i++) {
        info->max_workgroup_size[i] = l->maxComputeWorkGroupSize[i];
        info->max_workgroup_count[i] = l->maxComputeWorkGroupCount[i];
    }
    info->max_shared_memory = l->maxComputeSharedMemorySize;
    info->min_storage_buffer_offset_alignment = (uint32_t)l->minStorageBufferOffsetAlignment;
    info->max_uniform_buffer_range = l->maxUniformBufferRange;
    info->min_uniform_buffer_offset_alignment = (uint32_t)l->minUniformBufferOffsetAlignment;
    info->max_push_constants = l->maxPushConstantsSize;
    info->max_texel_buffer_elements = l->maxTexelBufferElements;
    info->min_texel_buffer_offset_alignment = (uint32_t)l->minTexelBufferOffsetAlignment;
    info->vendor_id = p2.properties.vendorID;
    if (base.apiVersion >= VK_API_VERSION_1_2)
        info->driver_id = (uint32_t)drv.driverID;
    info->timestamp_period_ns = l->timestampPeriod;
    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(p, &mp);
    for (uint32_t i = 0; i < mp.memoryHeapCount; i++)
        if ((mp.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) &&
            mp.memoryHeaps[i].size > info->device_memory_bytes)
            info->device_memory_bytes = mp.memoryHeaps[i].size;
    VkPhysicalDeviceFeatures f;
    vkGetPhysicalDeviceFeatures(p, &f);
    info->has_int64 = f.shaderInt64 == VK_TRUE;
    info->index = index;
}

static VkPhysicalDevice *enumerate(VkInstance inst, uint32_t *n)
{
    VK_CHECK(vkEnumeratePhysicalDevices(inst, n, NULL));
    if (*n == 0)
        return NULL;
    VkPhysicalDevice *d = vkdp_xcalloc(*n, sizeof *d);
    VkResult r = vkEnumeratePhysicalDevices(inst, n, d);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE)
        VK_CHECK(r);
    return d;
}

int vkdp_devices_print(FILE *out)
{
    VkDebugUtilsMessengerEXT m;
    VkInstance inst = create_instance(0, NULL, &m);
    uint32_t n = 0;
    VkPhysicalDevice *d = enumerate(inst, &n);
    for (uint32_t i = 0; i < n; i++) {
        vkdp_device_info in;
        vk_fill_info(d[i], (int)i, &in);
        fprintf(out,
                "device %u: %s\n"
                "  type                    %s\n"
                "  driver                  %s\n"
                "  api                     %u.%u.%u\n"
                "  memory (device-local)   %.1f GiB\n"
                "  subgroup size           %u\n"
                "  maxStorageBufferRange   %llu bytes (%.0f MiB)\n"
                "  maxMemoryAllocationSize %llu bytes\n"
                "  max workgroup           %u invocations, size %u x %u x %u, count %u x %u x %u\n"
                "  shared memory           %u bytes\n"
                "  storage offset align    %u bytes\n"
                "  maxTexelBufferElements  %u (offset align %u bytes)\n"
                "  maxPushConstantsSize    %u bytes\n"
                "  vendor / driver id      0x%x / %u\n"
                "  timestamp period        %.3f ns\n"
                "  shaderInt64             %s\n"
                "  compute queue family    %d\n",
                i, in.name, in.type_name, in.driver, VK_API_VERSION_MAJOR(in.api_version),
                VK_API_VERSION_MINOR(in.api_version), VK_API_VERSION_PATCH(in.api_version),
                (double)in.device_memory_bytes / (1 << 30), in.subgroup_size,
                (unsigned long long)in.max_storage_buffer_range, (double)in.max_storage_buffer_range / (1 << 20),
                (unsigned long long)in.max_allocation_size, in.max_workgroup_invocations,
                in.max_workgroup_size[0], in.max_workgroup_size[1], in.max_workgroup_size[2],
                in.max_workgroup_count[0], in.max_workgroup_count[1], in.max_workgroup_count[2],
                in.max_shared_memory, in.min_storage_buffer_offset_alignment,
                in.max_texel_buffer_elements, in.min_texel_buffer_offset_alignment,
                in.max_push_constants, in.vendor_id, in.driver_id, (double)in.timestamp_period_ns,
                in.has_int64 ? "yes" : "no", compute_queue_family(d[i]));
    }
    free(d);
    vkDestroyInstance(inst, NULL);
    return (int)n;
}

static int env_int(const char *name, int dflt)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return dflt;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end)
        VKDP_FATAL("environment variable %s=%s is not an integer", name, s);
    return (int)v;
}

static uint32_t pick_memtype(const VkPhysicalDeviceMemoryProperties *mp, VkMemoryPropertyFlags want)
{
    for (uint32_t i = 0; i < mp->memoryTypeCount; i++)
        if ((mp->memoryTypes[i].propertyFlags & want) == want)
            return i;
    return UINT32_MAX;
}

int vk_pick_device(const VkPhysicalDevice *pd, uint32_t n, int device_index, int local_rank, char *why,
                   size_t len)
{
    int index = device_index >= 0 ? device_index : env_int("VKDP_DEVICE", -1);
    if (index >= (int)n)
        return vkdp_seterr(why, len,
                           "device %d requested but only %u Vulkan device(s) exist (see `trainer devices`)", index, n);
    if (index >= 0)
        return index;
    int best = -1, count = 0;
    int *cands = vkdp_xcalloc(n ? n : 1, sizeof *cands);
    for (uint32_t i = 0; i < n; i++) {
        VkPhysicalDeviceProperties pr;
        vkGetPhysicalDeviceProperties(pd[i], &pr);
        if (compute_queue_family(pd[i]) < 0)
            continue;
        int r = type_rank(pr.deviceType);
        if (r > best) {
            best = r;
            count = 0;
        }
        if (r == best)
            cands[count++] = (int)i;
    }
    /* Several GPUs per node: each rank on the node takes its own. */
    index = count ? cands[local_rank % count] : -1;
    free(cands);
    if (index < 0)
        snprintf(why, len, "no Vulkan device with a compute queue");
    return index;
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
        validation = env_int("VKDP_VALIDATION", -1);
#ifdef NDEBUG
    if (validation < 0)
        validation = 0;
#else
    if (validation < 0)
        validation = 2; /* on when installed, silently off otherwise */
#endif
    dev->instance = create_instance(validation, dev, &dev->messenger);

    uint32_t n = 0;
    VkPhysicalDevice *pd = enumerate(dev->instance, &n);
    if (n == 0)
        VKDP_FATAL("no Vulkan physical device found; install mesa-vulkan-drivers (lavapipe) or a GPU driver");
    char why[256];
    int index = vk_pick_device(pd, n, o.device_index, o.local_rank, why, sizeof why);
    if (index < 0)
        VKDP_FATAL("%s", why);
    dev->phys = pd[index];
    free(pd);
    vk_fill_info(dev->phys, index, &dev->info);
    int qf = compute_queue_family(dev->phys);
    if (qf < 0)
        VKDP_FATAL("device %d (%s) has no compute queue", index, dev->info.name);
    dev->queue_family = (uint32_t)qf;

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
    VkDeviceCreateInfo dci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &qci,
        .pEnabledFeatures = &want,
    };
    VK_CHECK(vkCreateDevice(dev->phys, &dci, NULL, &dev->device));
    vkGetDeviceQueue(dev->device, dev->queue_family, 0, &dev->queue);

    vkGetPhysicalDeviceMemoryProperties(dev->phys, &dev->memprops);
    const VkMemoryPropertyFlags hv = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    dev->memtype_pref = pick_memtype(&dev->memprops, hv | VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    dev->memtype_host = pick_memtype(&dev->memprops, hv);
    if (dev->memtype_host == UINT32_MAX)
        VKDP_FATAL("device %s has no host-visible coherent memory type", dev->info.name);
    if (dev->memtype_pref == UINT32_MAX)
        dev->memtype_pref = dev->memtype_host;
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
    VK_CHECK(vkDeviceWaitIdle(dev->device));
    vkdp_pipelines_destroy(dev);
    vkDestroyPipelineCache(dev->device, dev->pcache, NULL);
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
