// cuDNN backend enumerator spellings: pure functions, so these run without a GPU.
#include <gtest/gtest.h>

#include <string>

#include "engine/gpu/cudnn_names.h"

namespace kiln::gpu::test {
namespace {

TEST(CudnnNames, KnownEnumeratorsAreSpelledInFull) {
  EXPECT_EQ(attribute_name(CUDNN_ATTR_CONVOLUTION_COMP_TYPE), "CUDNN_ATTR_CONVOLUTION_COMP_TYPE");
  EXPECT_EQ(attribute_name(CUDNN_ATTR_POINTWISE_MODE), "CUDNN_ATTR_POINTWISE_MODE");
  EXPECT_EQ(attribute_name(CUDNN_ATTR_ENGINE_NUMERICAL_NOTE), "CUDNN_ATTR_ENGINE_NUMERICAL_NOTE");
  EXPECT_EQ(descriptor_type_name(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR),
            "CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR");
  EXPECT_EQ(descriptor_type_name(CUDNN_BACKEND_POINTWISE_DESCRIPTOR), "CUDNN_BACKEND_POINTWISE_DESCRIPTOR");
  EXPECT_EQ(attribute_type_name(CUDNN_TYPE_INT64), "CUDNN_TYPE_INT64");
  EXPECT_EQ(attribute_type_name(CUDNN_TYPE_HANDLE), "CUDNN_TYPE_HANDLE");
  EXPECT_EQ(heur_mode_name(CUDNN_HEUR_MODE_FALLBACK), "CUDNN_HEUR_MODE_FALLBACK");
  EXPECT_EQ(knob_type_name(CUDNN_KNOB_TYPE_STAGES), "CUDNN_KNOB_TYPE_STAGES");
}

// The unknown values sit inside each enum's range of representable values (converting a value outside
// it is undefined behaviour) but match no enumerator the tables name.
TEST(CudnnNames, UnknownValuesKeepTheirNumber) {
  EXPECT_EQ(attribute_name(static_cast<cudnnBackendAttributeName_t>(99)), "attribute 99");
  EXPECT_EQ(descriptor_type_name(static_cast<cudnnBackendDescriptorType_t>(63)), "descriptor type 63");
  EXPECT_EQ(attribute_type_name(static_cast<cudnnBackendAttributeType_t>(31)), "attribute type 31");
  EXPECT_EQ(heur_mode_name(CUDNN_HEUR_MODES_COUNT), "heur mode " + std::to_string(static_cast<int>(CUDNN_HEUR_MODES_COUNT)));
  EXPECT_EQ(knob_type_name(CUDNN_KNOB_TYPE_COUNTS), "knob " + std::to_string(static_cast<int>(CUDNN_KNOB_TYPE_COUNTS)));
}

}  // namespace
}  // namespace kiln::gpu::test
