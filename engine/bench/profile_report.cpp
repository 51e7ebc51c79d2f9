#include "engine/bench/profile_report.h"

#include <algorithm>
#include <cstdio>

#include "engine/bench/report.h"

namespace kiln::bench {

namespace {

// TFLOP/s and GB/s of a layer; 0 when it did not run or took no measurable time.
double tflops(const LayerProfile& l) { return l.ran && l.ms > 0 ? l.flops / (l.ms * 1e-3) / 1e12 : 0.0; }
double gbps(const LayerProfile& l) { return l.ran && l.ms > 0 ? l.bytes / (l.ms * 1e-3) / 1e9 : 0.0; }

std::string truncated(const std::string& s, std::size_t n) { return s.size() <= n ? s : s.substr(0, n - 1) + "~"; }

}  // namespace

double ProfileResult::layer_sum_ms() const {
  double sum = 0;
  for (const LayerProfile& l : layers) sum += l.ms;
  return sum;
}

DevicePeaks known_peaks(const std::string& device, const std::string& precision) {
  DevicePeaks p;
  const bool h200 = device.find("H200") != std::string::npos;
  if (!h200 && device.find("H100") == std::string::npos) return p;
  p.tflops = precision == "fp16" ? 790.0 : precision == "tf32" ? 495.0 : 67.0;
  p.gbps = h200 ? 4300.0 : 3000.0;
  p.source = std::string(h200 ? "H200" : "H100") + " measured: " + std::to_string(static_cast<int>(p.tflops)) +
             " TFLOP/s " + precision + ", " + std::to_string(static_cast<int>(p.gbps)) + " GB/s";
  return p;
}

double floor_ms(const LayerProfile& l, const DevicePeaks& peaks) {
  if (!l.ran || peaks.tflops <= 0 || peaks.gbps <= 0) return 0.0;
  return std::max(l.flops / (peaks.tflops * 1e12), l.bytes / (peaks.gbps * 1e9)) * 1e3;
}

double layer_bytes(const Graph& graph, int layer, std::int64_t batch, double element_bytes) {
  const Layer& l = *graph.layers().at(static_cast<std::size_t>(layer));
  double bytes = static_cast<double>(element_count(Layer::at_batch(l.output_shape(), batch)));
  for (const Shape& s : l.input_shapes()) bytes += static_cast<double>(element_count(Layer::at_batch(s, batch)));
  for (const TensorEntry* w : l.weights()) bytes += static_cast<double>(element_count(w->shape));
  return bytes * element_bytes;
}

std::string format_profile(const ProfileResult& r, ProfileSort sort, std::size_t top) {
  std::vector<const LayerProfile*> rows;
  for (const LayerProfile& l : r.layers) rows.push_back(&l);
  std::stable_sort(rows.begin(), rows.end(), [sort](const LayerProfile* a, const LayerProfile* b) {
    if (a->ran != b->ran) return a->ran;
    return sort == ProfileSort::Time ? a->ms > b->ms : a->index < b->index;
  });
  const double sum = r.layer_sum_ms();
  std::string out = "=== kiln profile: " + r.model + (r.model_name.empty() ? "" : " (" + r.model_name + ")") +
                    ", batch " + std::to_string(r.batch) + " ===\ndevice: " + r.device_description + "\n";
  out += strprintf("timed runs (no per-layer events, before the profile): median %.4f ms of %lld runs\n",
                   r.timed_run_ms, static_cast<long long>(r.timed_runs));
  out += strprintf(
      "profiled runs: layers sum %.4f ms + input copy %.4f ms + output copy %.4f ms; first to last event "
      "%.4f ms (medians of %lld runs)\n\n",
      sum, r.input_copy_ms, r.output_copy_ms, r.profiled_total_ms, static_cast<long long>(r.runs));
  const bool floors = r.peaks.tflops > 0 && r.peaks.gbps > 0;
  double floor_sum = 0;
  for (const LayerProfile& l : r.layers) floor_sum += floor_ms(l, r.peaks);
  char buf[640];
  std::snprintf(buf, sizeof buf, "%-4s %-28s %-16s %10s %7s %8s %8s %9s %7s %10s  %s\n", "#", "layer", "op", "ms", "share",
                "TFLOP/s", "GB/s", "floor ms", "x floor", "workspace", "implementation");
  out += buf;
  std::size_t shown = 0;
  for (const LayerProfile* l : rows) {
    if (top > 0 && l->ran && shown >= top) continue;
    if (l->ran) {
      ++shown;
      const double f = floor_ms(*l, r.peaks);
      const std::string floor_text = floors ? strprintf("%.4f", f) : "-";
      const std::string ratio_text = floors && f > 0 ? strprintf("%.1f", l->ms / f) : "-";
      std::snprintf(buf, sizeof buf, "%-4d %-28s %-16s %10.4f %6.1f%% %8.2f %8.1f %9s %7s %10s  %s\n", l->index,
                    truncated(l->name, 28).c_str(), truncated(l->op, 16).c_str(), l->ms,
                    sum > 0 ? 100.0 * l->ms / sum : 0.0, tflops(*l), gbps(*l), floor_text.c_str(), ratio_text.c_str(),
                    human_bytes(l->workspace_bytes).c_str(), l->implementation.c_str());
    } else {
      std::snprintf(buf, sizeof buf, "%-4d %-28s %-16s %10s %7s %8s %8s %9s %7s %10s  %s\n", l->index,
                    truncated(l->name, 28).c_str(), truncated(l->op, 16).c_str(), "-", "-", "-", "-", "-", "-", "-",
                    l->implementation.c_str());
    }
    out += buf;
  }
  std::size_t ran = 0;
  for (const LayerProfile& l : r.layers) ran += l.ran ? 1 : 0;
  if (top > 0 && ran > top) out += "(" + std::to_string(ran - top) + " faster layers not shown; --top 0 shows all)\n";
  out += "share = of the layers' sum; GB/s counts each input, the output and the weights once (at the engine's element size).\n";
  if (floors) {
    out += strprintf("floor = max(FLOPs / %.0f TFLOP/s, bytes / %.0f GB/s) (%s); layers' floors sum %.4f ms, "
                     "the layers' sum is %.1fx that.\n",
                     r.peaks.tflops, r.peaks.gbps, r.peaks.source.c_str(), floor_sum, floor_sum > 0 ? sum / floor_sum : 0.0);
  } else {
    out += "floor: unknown peaks for this device (--peak-tflops and --peak-gbps give them).\n";
  }
  return out;
}

void write_profile_json(JsonWriter& j, const ProfileResult& r) {
  j.begin_object().value("tool", "kiln profile").value("model", r.model).value("model_name", r.model_name);
  j.value("device_description", r.device_description).value("precision", r.precision).value("algo", r.algo);
  j.value("batch", r.batch).value("runs", r.runs).value("timed_runs", r.timed_runs);
  j.value("timed_run_ms", r.timed_run_ms).value("layer_sum_ms", r.layer_sum_ms());
  j.value("input_copy_ms", r.input_copy_ms).value("output_copy_ms", r.output_copy_ms);
  j.value("profiled_total_ms", r.profiled_total_ms);
  j.value("peak_tflops", r.peaks.tflops).value("peak_gbps", r.peaks.gbps).value("peaks_source", r.peaks.source);
  j.begin_array("layers");
  const double sum = r.layer_sum_ms();
  for (const LayerProfile& l : r.layers) {
    j.begin_object().value("index", l.index).value("name", l.name).value("op", l.op);
    j.value("implementation", l.implementation).value("workspace_bytes", l.workspace_bytes).value("ran", l.ran);
    j.value("ms", l.ms).value("share", sum > 0 ? l.ms / sum : 0.0).value("flops", l.flops).value("bytes", l.bytes);
    const double f = floor_ms(l, r.peaks);
    j.value("tflops", tflops(l)).value("gbps", gbps(l)).value("floor_ms", f);
    j.value("floor_ratio", f > 0 ? l.ms / f : 0.0).end_object();
  }
  j.end_array().end_object();
}

}  // namespace kiln::bench
