#include "engine/gpu/matmul.h"

#include "engine/gpu/check.h"

namespace kiln::gpu {

namespace {

MatrixLayout make_layout(const MatmulOperand& m) {
  MatrixLayout layout =
      make_resource<MatrixLayout>(&cublasLtMatrixLayoutCreate, "cublasLtMatrixLayoutCreate", m.type, m.rows, m.cols, m.ld);
  if (m.batch > 1) {
    KILN_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(layout.get(), CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &m.batch,
                                                       sizeof(m.batch)));
    KILN_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(layout.get(), CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                                       &m.batch_stride, sizeof(m.batch_stride)));
  }
  return layout;
}

}  // namespace

cublasComputeType_t matmul_compute(Precision precision) {
  return precision == Precision::Tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
}

cudaDataType_t matmul_io_type(Precision precision) { return precision == Precision::Fp16 ? CUDA_R_16F : CUDA_R_32F; }

MatmulProblem make_matmul(cublasComputeType_t compute, bool transpose_a, bool transpose_b, const MatmulOperand& a,
                          const MatmulOperand& b, const MatmulOperand& d, const void* bias, bool relu) {
  MatmulProblem pr;
  pr.op = make_resource<MatmulDesc>(&cublasLtMatmulDescCreate, "cublasLtMatmulDescCreate", compute, CUDA_R_32F);
  const cublasOperation_t ta = transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t tb = transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  KILN_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(pr.op.get(), CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta)));
  KILN_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(pr.op.get(), CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb)));
  if (bias || relu) {
    const cublasLtEpilogue_t epilogue =
        bias ? (relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS) : CUBLASLT_EPILOGUE_RELU;
    KILN_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(pr.op.get(), CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof(epilogue)));
  }
  if (bias) {
    KILN_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(pr.op.get(), CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof(bias)));
  }
  pr.a = make_layout(a);
  pr.b = make_layout(b);
  pr.d = make_layout(d);
  return pr;
}

std::uint32_t common_alignment(std::initializer_list<std::uint64_t> bytes) {
  std::uint32_t align = 256;
  for (const std::uint64_t b : bytes) {
    while (align > 1 && b % align != 0) align /= 2;
  }
  return align;
}

cublasLtMatmulHeuristicResult_t pick_matmul_algorithm(cublasLtHandle_t handle, const MatmulProblem& pr,
                                                      std::uint64_t workspace, std::uint32_t min_alignment) {
  MatmulPreference pref = make_resource<MatmulPreference>(&cublasLtMatmulPreferenceCreate, "cublasLtMatmulPreferenceCreate");
  KILN_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref.get(), CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                         &workspace, sizeof(workspace)));
  for (const cublasLtMatmulPreferenceAttributes_t attr :
       {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES}) {
    KILN_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref.get(), attr, &min_alignment, sizeof(min_alignment)));
  }
  cublasLtMatmulHeuristicResult_t result{};
  int count = 0;
  KILN_CUBLAS_CHECK(cublasLtMatmulAlgoGetHeuristic(handle, pr.op.get(), pr.a.get(), pr.b.get(), pr.d.get(), pr.d.get(),
                                                   pref.get(), 1, &result, &count));
  if (count < 1) {
    check_status(CUBLAS_STATUS_NOT_SUPPORTED, "cublasLtMatmulAlgoGetHeuristic returned no algorithm", __FILE__, __LINE__);
  }
  return result;
}

void run_matmul(cublasLtHandle_t handle, const MatmulProblem& pr, const cublasLtMatmulHeuristicResult_t& algo,
                const void* a, const void* b, void* d, void* workspace, cudaStream_t stream) {
  const float one = 1.0f;
  const float zero = 0.0f;
  KILN_CUBLAS_CHECK(cublasLtMatmul(handle, pr.op.get(), &one, a, pr.a.get(), b, pr.b.get(), &zero, d, pr.d.get(), d,
                                   pr.d.get(), &algo.algo, workspace, algo.workspaceSize, stream));
}

}  // namespace kiln::gpu
