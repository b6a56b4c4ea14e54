/* Texel-buffer views (VkBufferView): one per (buffer, offset, range, format), created when a
 * dispatch first binds it, kept on the buffer and destroyed with it. */
#include <stdlib.h>

#include "vk_internal.h"

/* Bytes per texel of the formats a compute shader reads or writes through texel buffers. */
static uint32_t texel_bytes(VkFormat f)
{
    switch (f) {
    case VK_FORMAT_R8_UNORM: case VK_FORMAT_R8_UINT: case VK_FORMAT_R8_SINT: return 1;
    case VK_FORMAT_R16_SFLOAT: case VK_FORMAT_R16_UINT: case VK_FORMAT_R16_SINT: return 2;
    case VK_FORMAT_R32_SFLOAT: case VK_FORMAT_R32_UINT: case VK_FORMAT_R32_SINT:
    case VK_FORMAT_R8G8B8A8_UNORM: case VK_FORMAT_R16G16_SFLOAT: return 4;
    case VK_FORMAT_R32G32_SFLOAT: case VK_FORMAT_R32G32_UINT:
    case VK_FORMAT_R16G16B16A16_SFLOAT: return 8;
    case VK_FORMAT_R32G32B32A32_SFLOAT: case VK_FORMAT_R32G32B32A32_UINT:
    case VK_FORMAT_R32G32B32A32_SINT: return 16;
    default: return 0;
    }
}

VkBufferView vkdp_buf_texel_view(vkdp_buf *b, uint64_t off, uint64_t range, VkFormat format,
                                 vkdp_bind_kind kind, const char *label, uint32_t binding)
{
    for (uint32_t i = 0; i < b->nviews; i++) {
        const vk_texel_view *v = &b->views[i];
        if (v->off == off && v->range == range && v->format == format)
            return v->view;
    }
    vkdp_device *dev = b->dev;
    const vkdp_device_info *in = &dev->info;
    if (format == VK_FORMAT_UNDEFINED)
        VKDP_FATAL("%s: binding %u (%s) is a %s: its view needs a format (vkdp_texels)", label,
                   binding, b->name, vkdp_bind_kind_name(kind));
    uint32_t tb = texel_bytes(format);
    if (!tb)
        VKDP_FATAL("%s: binding %u (%s): VkFormat %d is not a texel-buffer format vkdp knows",
                   label, binding, b->name, (int)format);
    if (off % in->min_texel_buffer_offset_alignment)
        VKDP_FATAL("%s: binding %u (%s) offset %llu is not a multiple of "
                   "minTexelBufferOffsetAlignment %u", label, binding, b->name,
                   (unsigned long long)off, in->min_texel_buffer_offset_alignment);
    if (range % tb)
        VKDP_FATAL("%s: binding %u (%s) range %llu is not a whole number of %u-byte texels",
                   label, binding, b->name, (unsigned long long)range, tb);
    if (range / tb > in->max_texel_buffer_elements)
        VKDP_FATAL("%s: binding %u (%s) spans %llu texels, over maxTexelBufferElements %u: the "
                   "op must tile it", label, binding, b->name, (unsigned long long)(range / tb),
                   in->max_texel_buffer_elements);
    VkFormatProperties fp;
    vkGetPhysicalDeviceFormatProperties(dev->phys, format, &fp);
    VkFormatFeatureFlags need = kind == VKDP_BIND_STORAGE_TEXEL
                                    ? VK_FORMAT_FEATURE_STORAGE_TEXEL_BUFFER_BIT
                                    : VK_FORMAT_FEATURE_UNIFORM_TEXEL_BUFFER_BIT;
    if (!(fp.bufferFeatures & need))
        VKDP_FATAL("%s: binding %u (%s): this device cannot use VkFormat %d as a %s", label,
                   binding, b->name, (int)format, vkdp_bind_kind_name(kind));
    VkBufferViewCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
        .buffer = b->buffer,
        .format = format,
        .offset = off,
        .range = range,
    };
    vk_texel_view v = {off, range, format, VK_NULL_HANDLE};
    VK_CHECK(vkCreateBufferView(dev->device, &ci, NULL, &v.view));
    b->views = vkdp_xrealloc(b->views, (size_t)(b->nviews + 1) * sizeof *b->views);
    b->views[b->nviews++] = v;
    return v.view;
}

void vkdp_buf_texel_views_destroy(vkdp_buf *b)
{
    for (uint32_t i = 0; i < b->nviews; i++)
        vkDestroyBufferView(b->dev->device, b->views[i].view, NULL);
    free(b->views);
    b->views = NULL;
    b->nviews = 0;
}

uint32_t vkdp_buf_texel_views(const vkdp_buf *b) { return b->nviews; }
