/* Private to trainer/vk/vk_*.c: the structs behind vk.h's opaque handles. */
#ifndef VKDP_VK_INTERNAL_H
#define VKDP_VK_INTERNAL_H
#include "vkdp/vk/vk.h"

typedef struct {
    uint64_t off, size;
} vk_range;

typedef struct {
    VkDeviceMemory mem;
    uint64_t size;
    uint32_t type;
    uint8_t *map;
    vk_range *free;     /* sorted by offset, coalesced */
    int nfree, capfree;
} vk_block;

/* A texel-buffer view of a buffer range, cached on the buffer. */
typedef struct {
    uint64_t off, range;
    VkFormat format;
    VkBufferView view;
} vk_texel_view;

struct vkdp_buf {
    vkdp_device *dev;
    VkBuffer buffer;
    int block;
    uint64_t off;       /* in the block */
    uint64_t alloc;     /* bytes taken from the block (aligned) */
    uint64_t size;      /* bytes asked for */
    char name[64];
    vk_texel_view *views;
    uint32_t nviews;
};

struct vkdp_pipeline {
    char shader[64];
    const uint32_t *code;   /* key: the SPIR-V (built-in or the caller's) */
    uint32_t spec[16];
    uint32_t nspec, wg_x;
    vkdp_spirv_info info;   /* reflected; local_size[0] as specialized */
    VkShaderModule module;
    VkDescriptorSetLayout dsl;
    VkPipelineLayout layout;
    VkPipeline pipeline;
};

struct vkdp_device {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice phys;
    VkDevice device;
    VkQueue queue;
    uint32_t queue_family;
    vkdp_device_info info;
    VkPhysicalDeviceMemoryProperties memprops;
    uint32_t memtype_pref, memtype_host; /* preferred (device-local + host-visible) and fallback */
    uint64_t block_size;
    vk_block *blocks;
    int nblocks;
    uint64_t in_use, peak;
    VkPipelineCache pcache;
    vkdp_pipeline **pipes;
    int npipes;
    int profile;
    int validation_errors;
    char **labels;      /* interned op labels: recordings and profiles keep pointers to them */
    int nlabels;
    const void *ops_data;
};

/* Properties and limits of a physical device. */
void vk_fill_info(VkPhysicalDevice p, int index, vkdp_device_info *info);
/* The device a process would use: device_index >= 0, else VKDP_DEVICE, else the best type
 * (discrete > integrated > virtual > CPU) with a compute queue, local_rank % count among equals.
 * Returns its index, or -1 with the reason in why. */
int vk_pick_device(const VkPhysicalDevice *pd, uint32_t n, int device_index, int local_rank, char *why,
                   size_t len);

/* A stable copy of an op label, owned by the device (one per distinct string). */
const char *vkdp_intern_label(vkdp_device *dev, const char *label);
VkDescriptorType vkdp_descriptor_type(vkdp_bind_kind k);
/* The cached view of buf's [off, off+range) as format (created on first use; checks the
 * device's texel-buffer limits and the format's support, fatal naming label and binding). */
VkBufferView vkdp_buf_texel_view(vkdp_buf *buf, uint64_t off, uint64_t range, VkFormat format,
                                 vkdp_bind_kind kind, const char *label, uint32_t binding);
void vkdp_buf_texel_views_destroy(vkdp_buf *b);

#endif
