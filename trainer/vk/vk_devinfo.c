/* What a physical device is: limits, identity (UUID, PCI address), memory table, subgroup sizes,
 * cooperative-matrix shapes; and `trainer devices`, which prints all of it. */
#include <stdlib.h>
#include <string.h>

#include "vk_internal.h"
#include "vkdp/core/errmsg.h"

/* Debian 12's headers (1.3.239) predate VK_KHR_cooperative_matrix (1.3.255): its few
 * definitions, as the registry gives them. */
#ifndef VK_KHR_cooperative_matrix
#define VK_KHR_cooperative_matrix 1
#define VK_KHR_COOPERATIVE_MATRIX_EXTENSION_NAME "VK_KHR_cooperative_matrix"
#define VKDP_STYPE_COOPERATIVE_MATRIX_PROPERTIES_KHR ((VkStructureType)1000506001)
typedef struct {
    VkStructureType sType;
    void *pNext;
    uint32_t MSize, NSize, KSize;
    VkComponentTypeNV AType, BType, CType, ResultType;
    VkBool32 saturatingAccumulation;
    VkScopeNV scope;
} vkdp_coopmat_props_khr;
#else
#define VKDP_STYPE_COOPERATIVE_MATRIX_PROPERTIES_KHR VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_KHR
typedef VkCooperativeMatrixPropertiesKHR vkdp_coopmat_props_khr;
#endif
typedef VkResult(VKAPI_PTR *coopmat_fn)(VkPhysicalDevice, uint32_t *, vkdp_coopmat_props_khr *);

const char *vk_type_name(VkPhysicalDeviceType t)
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
static int class_rank(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 1;
    default: return 0;
    }
}

int vk_compute_queue_family(VkPhysicalDevice p)
{
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(p, &n, NULL);
    VkQueueFamilyProperties *q = vkdp_xcalloc(n ? n : 1, sizeof *q);
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

int vk_has_extension(VkPhysicalDevice p, const char *name)
{
    uint32_t n = 0;
    VK_CHECK(vkEnumerateDeviceExtensionProperties(p, NULL, &n, NULL));
    VkExtensionProperties *e = vkdp_xcalloc(n ? n : 1, sizeof *e);
    VkResult r = vkEnumerateDeviceExtensionProperties(p, NULL, &n, e);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE)
        VK_CHECK(r);
    int found = 0;
    for (uint32_t i = 0; i < n && !found; i++)
        found = !strcmp(e[i].extensionName, name);
    free(e);
    return found;
}

void vk_fill_info(VkPhysicalDevice p, int index, vkdp_device_info *info)
{
    memset(info, 0, sizeof *info);
    VkPhysicalDeviceProperties base;
    vkGetPhysicalDeviceProperties(p, &base);
    int v12 = base.apiVersion >= VK_API_VERSION_1_2;
    int has_pci = vk_has_extension(p, VK_EXT_PCI_BUS_INFO_EXTENSION_NAME);
    int has_sgc = vk_has_extension(p, VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME) ||
                  base.apiVersion >= VK_API_VERSION_1_3;
    VkPhysicalDeviceSubgroupProperties sg = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceDriverProperties drv = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceIDProperties id = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES};
    VkPhysicalDevicePCIBusInfoPropertiesEXT pci = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PCI_BUS_INFO_PROPERTIES_EXT};
    VkPhysicalDeviceSubgroupSizeControlPropertiesEXT sgc = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES_EXT};
    VkPhysicalDeviceMaintenance3Properties m3 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES,
                                                 .pNext = &sg};
    sg.pNext = &id;
    void **tail = &id.pNext;
    if (v12) {
        *tail = &drv;
        tail = &drv.pNext;
    }
    if (has_pci) {
        *tail = &pci;
        tail = &pci.pNext;
    }
    if (has_sgc)
        *tail = &sgc;
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &m3};
    vkGetPhysicalDeviceProperties2(p, &p2);
    const VkPhysicalDeviceLimits *l = &p2.properties.limits;
    snprintf(info->name, sizeof info->name, "%s", p2.properties.deviceName);
    info->type = p2.properties.deviceType;
    info->type_name = vk_type_name(info->type);
    if (v12)
        snprintf(info->driver, sizeof info->driver, "%.120s %.120s", drv.driverName, drv.driverInfo);
    else
        snprintf(info->driver, sizeof info->driver, "driver version 0x%x", p2.properties.driverVersion);
    info->api_version = p2.properties.apiVersion;
    info->subgroup_size = sg.subgroupSize;
    info->subgroup_min = has_sgc && sgc.minSubgroupSize ? sgc.minSubgroupSize : sg.subgroupSize;
    info->subgroup_max = has_sgc && sgc.maxSubgroupSize ? sgc.maxSubgroupSize : sg.subgroupSize;
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
    if (v12)
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
    info->vendor_id = p2.properties.vendorID;
    info->device_id = p2.properties.deviceID;
    memcpy(info->uuid, id.deviceUUID, sizeof info->uuid);
    info->has_pci = has_pci;
    info->pci_domain = pci.pciDomain;
    info->pci_bus = pci.pciBus;
    info->pci_device = pci.pciDevice;
    info->pci_function = pci.pciFunction;
    info->coopmat_khr = vk_has_extension(p, VK_KHR_COOPERATIVE_MATRIX_EXTENSION_NAME);
    info->coopmat_nv = vk_has_extension(p, VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME);
}

static void devsel_entry(VkPhysicalDevice p, const vkdp_device_info *info, vkdp_devsel_dev *d)
{
    memset(d, 0, sizeof *d);
    d->index = info->index;
    d->class_rank = class_rank(info->type);
    d->has_compute = vk_compute_queue_family(p) >= 0;
    d->has_pci = info->has_pci;
    d->pci_domain = info->pci_domain;
    d->pci_bus = info->pci_bus;
    d->pci_device = info->pci_device;
    d->pci_function = info->pci_function;
    memcpy(d->uuid, info->uuid, sizeof d->uuid);
}

int vk_choose_device(const VkPhysicalDevice *pd, uint32_t n, const int *devices, int ndevices, int local_rank,
                     int local_size, vkdp_devsel *sel, int *class_rank_out, char *err, size_t len)
{
    int list[VKDP_MAX_DEVICE_LIST], nlist = ndevices;
    if (nlist > 0)
        memcpy(list, devices, (size_t)nlist * sizeof *list);
    const char *env = getenv("VKDP_DEVICE");
    if (nlist == 0 && env && *env) {
        char why[512];
        nlist = vkdp_parse_device_list(env, list, why, sizeof why);
        if (nlist < 0)
            return vkdp_seterr(err, len, "VKDP_DEVICE: %s", why);
    }
    vkdp_devsel_dev *cand = vkdp_xcalloc(n ? n : 1, sizeof *cand);
    for (uint32_t i = 0; i < n; i++) {
        vkdp_device_info in;
        vk_fill_info(pd[i], (int)i, &in);
        devsel_entry(pd[i], &in, &cand[i]);
    }
    int rc = vkdp_device_select(cand, (int)n, list, nlist, local_rank, local_size, sel, err, len);
    if (rc == 0)
        *class_rank_out = cand[sel->index].class_rank;
    free(cand);
    return rc;
}

VkPhysicalDevice *vk_enumerate(VkInstance inst, uint32_t *n)
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

static const char *component_name(int t)
{
    static const char *names[] = {"f16", "f32", "f64", "s8", "s16", "s32", "s64", "u8", "u16", "u32", "u64"};
    return t >= 0 && t < (int)VKDP_ARRAY_LEN(names) ? names[t] : "?";
}

static void print_coopmat(FILE *out, VkInstance inst, VkPhysicalDevice p)
{
    coopmat_fn f = (coopmat_fn)vkGetInstanceProcAddr(inst, "vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR");
    uint32_t n = 0;
    if (!f || f(p, &n, NULL) != VK_SUCCESS || n == 0) {
        fprintf(out, "  cooperative matrix      VK_KHR_cooperative_matrix listed, no shapes reported\n");
        return;
    }
    vkdp_coopmat_props_khr *c = vkdp_xcalloc(n, sizeof *c);
    for (uint32_t i = 0; i < n; i++)
        c[i].sType = VKDP_STYPE_COOPERATIVE_MATRIX_PROPERTIES_KHR;
    VkResult r = f(p, &n, c);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE)
        VK_CHECK(r);
    fprintf(out, "  cooperative matrix      VK_KHR_cooperative_matrix, %u shapes (MxNxK A*B+C->R):\n", n);
    for (uint32_t i = 0; i < n; i++)
        fprintf(out, "    %ux%ux%u %s*%s+%s->%s%s\n", c[i].MSize, c[i].NSize, c[i].KSize,
                component_name((int)c[i].AType), component_name((int)c[i].BType), component_name((int)c[i].CType),
                component_name((int)c[i].ResultType), c[i].scope == VK_SCOPE_SUBGROUP_NV ? "" : " (not subgroup scope)");
    free(c);
}

static void print_memory(FILE *out, VkPhysicalDevice p)
{
    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(p, &mp);
    char flags[256];
    for (uint32_t h = 0; h < mp.memoryHeapCount; h++)
        fprintf(out, "  memory heap %u           %.2f GiB%s%s\n", h, (double)mp.memoryHeaps[h].size / (1 << 30),
                mp.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT ? " DEVICE_LOCAL" : "",
                mp.memoryHeaps[h].flags & VK_MEMORY_HEAP_MULTI_INSTANCE_BIT ? " MULTI_INSTANCE" : "");
    for (uint32_t t = 0; t < mp.memoryTypeCount; t++) {
        vkdp_memflags_str(mp.memoryTypes[t].propertyFlags, flags, sizeof flags);
        fprintf(out, "  memory type %-2u          heap %u %s\n", t, mp.memoryTypes[t].heapIndex, flags);
    }
    /* The plan over every type (a real buffer's type bits are known once a device is open). */
    vkdp_memplan plan;
    if (vkdp_memplan_choose(&mp, ~0u, &plan))
        fprintf(out, "  vkdp memory plan        none: %s\n", plan.why);
    else if (plan.direct)
        fprintf(out, "  vkdp memory plan        direct: tensors in type %u, mapped\n", plan.device);
    else
        fprintf(out, "  vkdp memory plan        staged: tensors in type %u, uploads via type %u, "
                     "downloads via type %u\n", plan.device, plan.staging, plan.readback);
}

static void uuid_str(const uint8_t u[16], char out[40])
{
    int len = 0;
    for (int k = 0; k < 16; k++)
        len += snprintf(out + len, (size_t)(40 - len), "%s%02x", k == 4 || k == 6 || k == 8 || k == 10 ? "-" : "", u[k]);
}

int vkdp_devices_print(FILE *out)
{
    VkDebugUtilsMessengerEXT m;
    VkInstance inst = vk_create_instance(0, NULL, &m);
    uint32_t n = 0;
    VkPhysicalDevice *d = vk_enumerate(inst, &n);
    for (uint32_t i = 0; i < n; i++) {
        vkdp_device_info in;
        vk_fill_info(d[i], (int)i, &in);
        char uuid[40], pci[40];
        uuid_str(in.uuid, uuid);
        if (in.has_pci)
            snprintf(pci, sizeof pci, "%04x:%02x:%02x.%x", in.pci_domain, in.pci_bus, in.pci_device, in.pci_function);
        else
            snprintf(pci, sizeof pci, "unknown (no VK_EXT_pci_bus_info)");
        fprintf(out,
                "device %u: %s\n"
                "  type                    %s\n"
                "  driver                  %s\n"
                "  api                     %u.%u.%u\n"
                "  vendor / device id      0x%04x / 0x%04x (driver id %u)\n"
                "  uuid                    %s\n"
                "  pci bus                 %s\n"
                "  memory (device-local)   %.1f GiB\n"
                "  subgroup size           %u (min %u, max %u)\n"
                "  maxStorageBufferRange   %llu bytes (%.0f MiB)\n"
                "  maxMemoryAllocationSize %llu bytes\n"
                "  max workgroup           %u invocations, size %u x %u x %u, count %u x %u x %u\n"
                "  shared memory           %u bytes\n"
                "  storage offset align    %u bytes\n"
                "  maxTexelBufferElements  %u (offset align %u bytes)\n"
                "  maxPushConstantsSize    %u bytes\n"
                "  timestamp period        %.3f ns\n"
                "  shaderInt64             %s\n"
                "  compute queue family    %d\n",
                i, in.name, in.type_name, in.driver, VK_API_VERSION_MAJOR(in.api_version),
                VK_API_VERSION_MINOR(in.api_version), VK_API_VERSION_PATCH(in.api_version), in.vendor_id,
                in.device_id, in.driver_id, uuid, pci, (double)in.device_memory_bytes / (1 << 30), in.subgroup_size,
                in.subgroup_min, in.subgroup_max, (unsigned long long)in.max_storage_buffer_range,
                (double)in.max_storage_buffer_range / (1 << 20), (unsigned long long)in.max_allocation_size,
                in.max_workgroup_invocations, in.max_workgroup_size[0], in.max_workgroup_size[1],
                in.max_workgroup_size[2], in.max_workgroup_count[0], in.max_workgroup_count[1],
                in.max_workgroup_count[2], in.max_shared_memory, in.min_storage_buffer_offset_alignment,
                in.max_texel_buffer_elements, in.min_texel_buffer_offset_alignment, in.max_push_constants,
                (double)in.timestamp_period_ns, in.has_int64 ? "yes" : "no", vk_compute_queue_family(d[i]));
        print_memory(out, d[i]);
        if (in.coopmat_khr)
            print_coopmat(out, inst, d[i]);
        else
            fprintf(out, "  cooperative matrix      %s\n",
                    in.coopmat_nv ? "VK_NV_cooperative_matrix only" : "not supported");
    }
    free(d);
    vkDestroyInstance(inst, NULL);
    return (int)n;
}
