#include "datasets/obj.h"

#include <fmt/format.h>

#include <string>

#include "core/error.h"
#include "core/file_io.h"

namespace facet::datasets {

void WriteObj(const std::filesystem::path& path, const geometry::TriangleMesh& mesh) {
  mesh.Check();
  FACET_CHECK(!mesh.triangles.empty(), "{}: an OBJ mesh needs at least one triangle",
              path.string());
  std::string text = fmt::format("# facet mesh: {} vertices, {} triangles\n", mesh.vertices.size(),
                                 mesh.triangles.size());
  text.reserve(text.size() + mesh.vertices.size() * 80 + mesh.triangles.size() * 40);
  for (std::size_t v = 0; v < mesh.vertices.size(); ++v) {
    const Eigen::Vector3d& p = mesh.vertices[v];
    FACET_CHECK(p.allFinite(), "{}: vertex {} is not finite", path.string(), v);
    if (mesh.HasVertexColors()) {
      const Eigen::Vector3f c = mesh.vertex_colors[v].cwiseMax(0.0f).cwiseMin(1.0f);
      fmt::format_to(std::back_inserter(text), "v {:.9g} {:.9g} {:.9g} {:.6g} {:.6g} {:.6g}\n",
                     p.x(), p.y(), p.z(), c.x(), c.y(), c.z());
    } else {
      fmt::format_to(std::back_inserter(text), "v {:.9g} {:.9g} {:.9g}\n", p.x(), p.y(), p.z());
    }
  }
  if (mesh.HasVertexNormals()) {
    for (const Eigen::Vector3d& n : mesh.vertex_normals) {
      fmt::format_to(std::back_inserter(text), "vn {:.7g} {:.7g} {:.7g}\n", n.x(), n.y(), n.z());
    }
  }
  for (const auto& t : mesh.triangles) {
    const std::uint64_t a = t[0] + 1ull, b = t[1] + 1ull, c = t[2] + 1ull;
    if (mesh.HasVertexNormals()) {
      fmt::format_to(std::back_inserter(text), "f {0}//{0} {1}//{1} {2}//{2}\n", a, b, c);
    } else {
      fmt::format_to(std::back_inserter(text), "f {} {} {}\n", a, b, c);
    }
  }
  WriteFileAtomically(path, std::string_view(text));
}

}  // namespace facet::datasets
