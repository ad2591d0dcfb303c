// Header-only: the kernels are static inline in include/bit_kernels.h.
