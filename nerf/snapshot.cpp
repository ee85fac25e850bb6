#include "nerf/snapshot.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ostream>

#include "core/error.h"
#include "core/file_io.h"
#include "nerf/trainer.h"

namespace facet::nerf {
namespace {

using json = nlohmann::json;

constexpr char kMagic[8] = {'F', 'A', 'C', 'E', 'T', 'N', 'R', 'F'};
constexpr const char* kBlocks[3] = {"grid", "density", "color"};

json Vector(const Eigen::Vector3f& v) { return json::array({v.x(), v.y(), v.z()}); }

Eigen::Vector3f ToVector(const json& j) {
  return Eigen::Vector3f(j.at(0).get<float>(), j.at(1).get<float>(), j.at(2).get<float>());
}

json Header(const NerfSnapshot& s) {
  const HashGridOptions& g = s.field.grid;
  json header = {{"field",
                  {{"levels", g.levels},
                   {"features_per_level", g.features_per_level},
                   {"log2_table_size", g.log2_table_size},
                   {"base_resolution", g.base_resolution},
                   {"max_resolution", g.max_resolution},
                   {"density_hidden", s.field.density_hidden},
                   {"color_hidden", s.field.color_hidden},
                   {"color_layers", s.field.color_layers}}},
                 {"aabb_min", Vector(s.aabb_min)},
                 {"aabb_max", Vector(s.aabb_max)},
                 {"background", Vector(s.background)},
                 {"occupancy",
                  {{"resolution", s.occupancy_options.resolution},
                   {"cascades", s.occupancy_options.cascades},
                   {"decay", s.occupancy_options.decay},
                   {"threshold", s.occupancy_options.threshold}}},
                 {"step", s.step}};
  json arrays = json::array();
  const auto add = [&arrays](const char* name, const std::vector<float>& a) {
    arrays.push_back({{"name", name}, {"count", a.size()}});
  };
  add("grid", s.grid);
  add("density", s.density);
  add("color", s.color);
  add("occupancy", s.occupancy);
  if (s.IsCheckpoint()) {
    json steps = json::array();
    for (int b = 0; b < 3; ++b) {
      add((std::string(kBlocks[b]) + "_m").c_str(), s.optimizers[b].m);
      add((std::string(kBlocks[b]) + "_v").c_str(), s.optimizers[b].v);
      steps.push_back(s.optimizers[b].step);
    }
    header["adam_steps"] = steps;
    header["rng"] = s.rng_state;
  }
  header["arrays"] = arrays;
  return header;
}

}  // namespace

void WriteNerfSnapshot(const std::filesystem::path& path, const NerfSnapshot& snapshot) {
  FACET_CHECK(snapshot.optimizers.empty() || snapshot.optimizers.size() == 3,
              "a NeRF checkpoint holds 3 optimiser states (got {})", snapshot.optimizers.size());
  const std::string header = Header(snapshot).dump();
  WriteFileAtomically(path, [&](std::ostream& out) {
    const std::uint32_t version = kNerfSnapshotVersion;
    const std::uint64_t length = header.size();
    out.write(kMagic, sizeof(kMagic));
    out.write(reinterpret_cast<const char*>(&version), sizeof(version));
    out.write(reinterpret_cast<const char*>(&length), sizeof(length));
    out.write(header.data(), std::streamsize(header.size()));
    const auto write = [&out](const std::vector<float>& a) {
      out.write(reinterpret_cast<const char*>(a.data()), std::streamsize(a.size() * sizeof(float)));
    };
    write(snapshot.grid);
    write(snapshot.density);
    write(snapshot.color);
    write(snapshot.occupancy);
    for (const NerfSnapshot::OptimizerState& o : snapshot.optimizers) {
      write(o.m);
      write(o.v);
    }
  });
}

NerfSnapshot ReadNerfSnapshot(const std::filesystem::path& path) {
  const std::vector<std::uint8_t> bytes = ReadFile(path);
  const std::string name = path.string();
  constexpr std::size_t kFixed = sizeof(kMagic) + sizeof(std::uint32_t) + sizeof(std::uint64_t);
  FACET_CHECK(bytes.size() >= kFixed && std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) == 0,
              "'{}' is not a facet NeRF snapshot (no FACETNRF header)", name);
  std::uint32_t version = 0;
  std::uint64_t length = 0;
  std::memcpy(&version, bytes.data() + 8, sizeof(version));
  std::memcpy(&length, bytes.data() + 12, sizeof(length));
  FACET_CHECK(version == kNerfSnapshotVersion,
              "'{}' is a NeRF snapshot of format version {}; this facet reads version {}", name,
              version, kNerfSnapshotVersion);
  FACET_CHECK(length <= bytes.size() - kFixed && length < (std::uint64_t{1} << 24),
              "'{}' is truncated (header of {} bytes, file of {})", name, length, bytes.size());
  NerfSnapshot s;
  std::size_t offset = kFixed + std::size_t(length);
  try {
    const json header = json::parse(bytes.begin() + kFixed, bytes.begin() + std::ptrdiff_t(offset));
    const json& f = header.at("field");
    s.field.grid.levels = f.at("levels");
    s.field.grid.features_per_level = f.at("features_per_level");
    s.field.grid.log2_table_size = f.at("log2_table_size");
    s.field.grid.base_resolution = f.at("base_resolution");
    s.field.grid.max_resolution = f.at("max_resolution");
    s.field.density_hidden = f.at("density_hidden");
    s.field.color_hidden = f.at("color_hidden");
    s.field.color_layers = f.at("color_layers");
    s.aabb_min = ToVector(header.at("aabb_min"));
    s.aabb_max = ToVector(header.at("aabb_max"));
    s.background = ToVector(header.at("background"));
    const json& o = header.at("occupancy");
    s.occupancy_options.resolution = o.at("resolution");
    s.occupancy_options.cascades = o.at("cascades");
    s.occupancy_options.decay = o.at("decay");
    s.occupancy_options.threshold = o.at("threshold");
    s.step = header.at("step");
    if (header.contains("adam_steps")) {
      s.optimizers.resize(3);
      for (int b = 0; b < 3; ++b) s.optimizers[b].step = header.at("adam_steps").at(b);
      s.rng_state = header.at("rng");
    }
    std::vector<std::vector<float>*> targets = {&s.grid, &s.density, &s.color, &s.occupancy};
    for (NerfSnapshot::OptimizerState& opt : s.optimizers) {
      targets.push_back(&opt.m);
      targets.push_back(&opt.v);
    }
    const json& arrays = header.at("arrays");
    FACET_CHECK(arrays.size() == targets.size(), "'{}' lists {} arrays; {} expected", name,
                arrays.size(), targets.size());
    for (std::size_t a = 0; a < targets.size(); ++a) {
      const std::uint64_t count = arrays.at(a).at("count");
      FACET_CHECK(count <= (bytes.size() - offset) / sizeof(float),
                  "'{}' is truncated in array '{}' ({} values announced)", name,
                  arrays.at(a).at("name").get<std::string>(), count);
      targets[a]->resize(count);
      std::memcpy(targets[a]->data(), bytes.data() + offset, count * sizeof(float));
      offset += count * sizeof(float);
    }
  } catch (const json::exception& e) {
    FACET_THROW("'{}' has a malformed header: {}", name, e.what());
  }
  FACET_CHECK(offset == bytes.size(), "'{}' has {} unexpected trailing bytes", name,
              bytes.size() - offset);
  try {
    s.field.Check();
    s.occupancy_options.Check();
  } catch (const Error& e) {
    FACET_THROW("'{}' holds invalid options: {}", name, e.what());
  }
  FACET_CHECK(s.aabb_min.allFinite() && s.aabb_max.allFinite() &&
                  (s.aabb_max - s.aabb_min).minCoeff() > 0.0f,
              "'{}' holds an empty or non-finite scene box", name);
  // The sizes the options imply.
  FACET_CHECK(s.grid.size() == HashGridParamCount(s.field.grid) &&
                  s.density.size() == MlpParamCount(DensityNetOptions(s.field)) &&
                  s.color.size() == MlpParamCount(ColorNetOptions(s.field)),
              "'{}': parameter arrays of {}, {}, {} values do not match its options", name,
              s.grid.size(), s.density.size(), s.color.size());
  const std::size_t cells = std::size_t(s.occupancy_options.cascades) *
                            s.occupancy_options.resolution * s.occupancy_options.resolution *
                            s.occupancy_options.resolution;
  FACET_CHECK(s.occupancy.size() == cells, "'{}': {} occupancy values for {} cells", name,
              s.occupancy.size(), cells);
  for (const std::vector<float>* a : {&s.grid, &s.density, &s.color}) {
    FACET_CHECK(std::all_of(a->begin(), a->end(), [](float v) { return std::isfinite(v); }),
                "'{}' holds non-finite parameters (a diverged run?)", name);
  }
  const std::size_t sizes[3] = {s.grid.size(), s.density.size(), s.color.size()};
  for (std::size_t b = 0; b < s.optimizers.size(); ++b) {
    FACET_CHECK(s.optimizers[b].m.size() == sizes[b] && s.optimizers[b].v.size() == sizes[b],
                "'{}': the {} optimiser state does not match its parameters", name, kBlocks[b]);
  }
  return s;
}

NerfSnapshot SnapshotOf(const NerfTrainer& trainer, const Eigen::Vector3f& background,
                        bool checkpoint) {
  NerfSnapshot s;
  const NerfField& field = trainer.field();
  s.field = field.options();
  s.aabb_min = field.aabb_min();
  s.aabb_max = field.aabb_max();
  s.background = background;
  s.occupancy_options = trainer.occupancy().options();
  s.step = trainer.step();
  s.grid.assign(field.grid().params().begin(), field.grid().params().end());
  s.density.assign(field.density_net().params().begin(), field.density_net().params().end());
  s.color.assign(field.color_net().params().begin(), field.color_net().params().end());
  s.occupancy.assign(trainer.occupancy().values().begin(), trainer.occupancy().values().end());
  if (checkpoint) {
    for (const Adam* adam :
         {&trainer.grid_adam(), &trainer.density_adam(), &trainer.color_adam()}) {
      NerfSnapshot::OptimizerState state;
      state.m.assign(adam->first_moment().begin(), adam->first_moment().end());
      state.v.assign(adam->second_moment().begin(), adam->second_moment().end());
      state.step = adam->step_count();
      s.optimizers.push_back(std::move(state));
    }
    s.rng_state = trainer.RngState();
  }
  return s;
}

void RestoreTrainer(const NerfSnapshot& snapshot, NerfTrainer* trainer) {
  NerfField& field = trainer->field();
  FACET_CHECK(snapshot.grid.size() == field.grid().ParamCount() &&
                  snapshot.density.size() == field.density_net().ParamCount() &&
                  snapshot.color.size() == field.color_net().ParamCount() &&
                  snapshot.occupancy.size() == trainer->occupancy().cell_count(),
              "the NeRF snapshot was made with other field or occupancy options; start afresh "
              "or use the same options");
  std::copy(snapshot.grid.begin(), snapshot.grid.end(), field.grid().params().begin());
  std::copy(snapshot.density.begin(), snapshot.density.end(), field.density_net().params().begin());
  std::copy(snapshot.color.begin(), snapshot.color.end(), field.color_net().params().begin());
  trainer->occupancy().SetValues(snapshot.occupancy);
  trainer->SetStep(snapshot.step);
  if (snapshot.IsCheckpoint()) {
    Adam* adams[3] = {&trainer->grid_adam(), &trainer->density_adam(), &trainer->color_adam()};
    for (int b = 0; b < 3; ++b) {
      adams[b]->SetState(snapshot.optimizers[b].m, snapshot.optimizers[b].v,
                         snapshot.optimizers[b].step);
    }
    trainer->SetRngState(snapshot.rng_state);
  }
}

NerfField FieldOf(const NerfSnapshot& snapshot) {
  NerfField field(snapshot.field, snapshot.aabb_min, snapshot.aabb_max, 0);
  FACET_CHECK(snapshot.grid.size() == field.grid().ParamCount() &&
                  snapshot.density.size() == field.density_net().ParamCount() &&
                  snapshot.color.size() == field.color_net().ParamCount(),
              "the NeRF snapshot's parameters do not match its options");
  std::copy(snapshot.grid.begin(), snapshot.grid.end(), field.grid().params().begin());
  std::copy(snapshot.density.begin(), snapshot.density.end(), field.density_net().params().begin());
  std::copy(snapshot.color.begin(), snapshot.color.end(), field.color_net().params().begin());
  return field;
}

}  // namespace facet::nerf
