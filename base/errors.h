// kiln's typed errors. Every failure a file, a caller or a library can cause surfaces as one of these;
// nothing in kiln calls abort() or exit() on bad input.
//
// Messages are meant to be acted on: they name the file and line or the layer, the field, what was
// expected and what was found.
#pragma once

#include "base/api.h"

#include <stdexcept>
#include <string>

namespace kiln {

// Base of every kiln error; catch this to handle all of them.
class KILN_API Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A file (manifest, blob, model.yaml, golden tensors) is missing, malformed or inconsistent.
class KILN_API FormatError : public Error {
 public:
  using Error::Error;
};

// The network is well-formed YAML but not a valid network: unknown op, bad attribute, wrong weight
// shape, shape mismatch between layers.
class KILN_API ModelError : public Error {
 public:
  using Error::Error;
};

// A caller misused the API or the command line (wrong batch, wrong buffer size, unknown flag).
class KILN_API UsageError : public Error {
 public:
  using Error::Error;
};

// A CUDA runtime, cuDNN or cuBLAS call failed. `status` is the library's own status code; `call` the
// expression text; `where` the file:line of the call; `layer` the layer being built or run, if any.
class KILN_API LibraryError : public Error {
 public:
  LibraryError(const std::string& library, int status, const std::string& status_text, const std::string& call,
               const std::string& where, const std::string& layer);
  int status() const { return status_; }
  const std::string& call() const { return call_; }
  const std::string& layer() const { return layer_; }

 private:
  int status_;
  std::string call_;
  std::string layer_;
};

class KILN_API CudaError : public LibraryError {
 public:
  using LibraryError::LibraryError;
};
class KILN_API CudnnError : public LibraryError {
 public:
  using LibraryError::LibraryError;
};
class KILN_API CublasError : public LibraryError {
 public:
  using LibraryError::LibraryError;
};

}  // namespace kiln
