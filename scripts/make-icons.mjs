// Draws Flick's app icons (a green "F" on the dark brand square) as PNGs, with no image library:
// raw RGBA rows, zlib-deflated into IDAT. Run: node scripts/make-icons.mjs
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { deflateSync } from "node:zlib";

const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../web/public");
const bg = [0x0f, 0x11, 0x15];
const fg = [0x7c, 0xf0, 0xb4];

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const c = Buffer.alloc(4);
  c.writeUInt32BE(crc(td));
  return Buffer.concat([len, td, c]);
};

function icon(size, padding) {
  // The "F" of the favicon, on a 64-unit grid, scaled; `padding` shrinks it for maskable icons.
  const bars = [
    [22, 18, 22, 6], // top
    [22, 18, 7, 28], // stem
    [22, 30, 19, 6], // middle
  ];
  const scale = (size * (1 - 2 * padding)) / 64;
  const offset = size * padding;
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let x = 0; x < size; x++) {
      const gx = (x - offset) / scale;
      const gy = (y - offset) / scale;
      const on = bars.some(([bx, by, w, h]) => gx >= bx && gx < bx + w && gy >= by && gy < by + h);
      const [r, g, b] = on ? fg : bg;
      row.set([r, g, b, 255], 1 + x * 4);
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

writeFileSync(path.join(out, "icon-192.png"), icon(192, 0));
writeFileSync(path.join(out, "icon-512.png"), icon(512, 0));
writeFileSync(path.join(out, "icon-maskable-512.png"), icon(512, 0.1));
writeFileSync(path.join(out, "apple-touch-icon.png"), icon(180, 0));
console.log("icons written to", out);
