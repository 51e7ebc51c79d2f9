// Spellings of cuDNN graph (backend) API enumerators, for error messages: attribute_name(
// CUDNN_ATTR_CONVOLUTION_COMP_TYPE) == "CUDNN_ATTR_CONVOLUTION_COMP_TYPE", and likewise for descriptor
// types, attribute types, heuristics modes and knob types. A value the tables lack comes back as its kind
// and number ("attribute 123", "descriptor type 44", "attribute type 30", "heur mode 4", "knob 0"), so no
// number is lost. The tables name only enumerators every cuDNN 9.x header declares: the attributes kiln
// uses, the heuristics modes, and the attribute, descriptor and knob types of cuDNN 9.0 not deprecated.
// Pure functions (no cuDNN call, no GPU); they allocate, so call them on failure paths only.
#pragma once

#include <cudnn.h>

#include <string>

namespace kiln::gpu {

std::string attribute_name(cudnnBackendAttributeName_t name);
std::string descriptor_type_name(cudnnBackendDescriptorType_t type);
std::string attribute_type_name(cudnnBackendAttributeType_t type);
std::string heur_mode_name(cudnnBackendHeurMode_t mode);
std::string knob_type_name(cudnnBackendKnobType_t knob);

}  // namespace kiln::gpu
