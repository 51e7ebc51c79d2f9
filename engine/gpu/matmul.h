// cuBLASLt matrix products as kiln's ops set them up (linear, the GEMM form of transposed
// convolutions): one problem description in column-major terms and the algorithm choice.
//
// D (m x n, column-major) = op(A) (m x k) * op(B) (k x n) [+ bias broadcast over columns], optionally
// strided-batched. Each operand names its element type, its stored rows x cols as cuBLASLt sees them
// (before op), its leading dimension and, when batched, its batch count and stride (a stride 0 operand
// is shared by every batch).
#pragma once

#include <cublasLt.h>

#include <cstdint>
#include <initializer_list>

#include "engine/gpu/engine_options.h"
#include "engine/gpu/resource.h"

namespace kiln::gpu {

struct MatmulOperand {
  cudaDataType_t type = CUDA_R_32F;
  std::uint64_t rows = 0, cols = 0;  // as stored, column-major
  std::int64_t ld = 0;
  int batch = 1;
  std::int64_t batch_stride = 0;  // elements between consecutive batches
};

struct MatmulProblem {
  MatmulDesc op;
  MatrixLayout a, b, d;
};

// One GEMM of an op that runs its work in chunks (`count` images or rows: the op says which), with the
// algorithm chosen for it.
struct MatmulChunk {
  std::int64_t count = 0;
  MatmulProblem pr;
  cublasLtMatmulHeuristicResult_t algo{};
};

// The most workspace kiln's GEMM ops offer cuBLASLt (its suggestion for Hopper).
constexpr std::uint64_t kMatmulWorkspaceHint = std::uint64_t{32} << 20;

// `bytes` rounded up to 256, the alignment of the regions ops carve out of the shared workspace.
constexpr std::uint64_t align_workspace(std::uint64_t bytes) { return (bytes + 255) / 256 * 256; }

// What a chunked GEMM op reserves for cuBLASLt at the start of the workspace under a cap of
// `workspace_cap` bytes: the hint, or an eighth of a smaller cap (the rest holds the op's buffers).
constexpr std::uint64_t matmul_reserve(std::uint64_t workspace_cap) {
  return align_workspace(workspace_cap / 8 < kMatmulWorkspaceHint ? workspace_cap / 8 : kMatmulWorkspaceHint);
}

// The compute type of a precision: Tf32 allows tensor cores on float (CUBLAS_COMPUTE_32F_FAST_TF32);
// Fp32 and Fp16 compute in CUBLAS_COMPUTE_32F (Fp16 with half operands uses tensor cores, float
// accumulation). Scales are float in every case.
cublasComputeType_t matmul_compute(Precision precision);
// Element type of activations in a precision: CUDA_R_16F for Fp16, else CUDA_R_32F.
cudaDataType_t matmul_io_type(Precision precision);

// A problem; `bias` (device, D's type, one value per row of D) adds CUBLASLT_EPILOGUE_BIAS when not null,
// `relu` a ReLU after it (CUBLASLT_EPILOGUE_RELU_BIAS, or CUBLASLT_EPILOGUE_RELU without a bias).
MatmulProblem make_matmul(cublasComputeType_t compute, bool transpose_a, bool transpose_b, const MatmulOperand& a,
                          const MatmulOperand& b, const MatmulOperand& d, const void* bias = nullptr,
                          bool relu = false);

// cuBLASLt's first heuristic choice within `workspace` bytes (deterministic for a problem, so every
// context picks the same one). `min_alignment`: the alignment in bytes (a power of two, 4..256) that
// every pointer the problem will run on has, and every batch stride keeps; cuBLASLt assumes 256 unless
// told, and an algorithm chosen for 256 fails on a pointer that is less aligned. Throws CublasError
// when there is none.
cublasLtMatmulHeuristicResult_t pick_matmul_algorithm(cublasLtHandle_t handle, const MatmulProblem& problem,
                                                      std::uint64_t workspace, std::uint32_t min_alignment = 256);

// The largest power of two <= 256 dividing every value of `bytes` (offsets and strides in bytes).
std::uint32_t common_alignment(std::initializer_list<std::uint64_t> bytes);

// Enqueues D = A * B (alpha 1, beta 0) on `stream`, checked.
void run_matmul(cublasLtHandle_t handle, const MatmulProblem& problem, const cublasLtMatmulHeuristicResult_t& algo,
                const void* a, const void* b, void* d, void* workspace, cudaStream_t stream);

}  // namespace kiln::gpu
