#version 450
// Test shader with a fixed workgroup size, a binding left unused (1) and a matrix in its push
// block (tests/test_vk_spirv.c).
layout(local_size_x = 8, local_size_y = 4, local_size_z = 2) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 2) buffer Y { float y[]; };
layout(push_constant) uniform P {
    mat3 m;      // 3 columns of 16 bytes (std430 stride of vec3)
    uint n;
} p;

void main()
{
    uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * 8u + gl_GlobalInvocationID.z * 32u;
    if (i < p.n)
        y[i] = x[i] * p.m[2][1];
}
