# Writes a C file defining the symbols `importer` takes from `real` (functions as empty functions,
# objects as zeroed arrays of the real size), for a stand-in library with the real SONAME.
# scripts/gpu-bundle.sh stands in for the codecs OpenCV's imgcodecs links but facet never calls
# (GDAL, GDCM, OpenEXR), which would otherwise bring 150 MB of libraries to the GPU machine;
# the dynamic linker (imgcodecs is linked with BIND_NOW) only needs the names to exist.
#   stub_library.py IMPORTER REAL OUT.c
import subprocess, sys
importer, real, out = sys.argv[1:4]
def nm(args, path):
    return subprocess.check_output(['nm', '-D'] + args + [path], text=True).splitlines()
wanted = {l.split()[-1].split('@')[0] for l in nm(['--undefined-only'], importer)}
lines = ['/* generated stand-in */']
for l in nm(['-S', '--defined-only'], real):
    parts = l.split()
    if len(parts) == 4: _, size, kind, name = parts
    elif len(parts) == 3: _, kind, name = parts; size = '0'
    else: continue
    name = name.split('@')[0]
    if name not in wanted: continue
    wanted.discard(name)
    ident = 's%d' % len(lines)
    if kind in 'TtWi':
        lines.append('void %s(void) __asm__("%s"); void %s(void) {}' % (ident, name, ident))
    else:
        n = max(int(size, 16), 8)
        lines.append('char %s[%d] __asm__("%s") = {0};' % (ident, n, name))
open(out, 'w').write('\n'.join(lines) + '\n')
