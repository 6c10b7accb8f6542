// Helpers shared by the SDK conformance scripts (issue 17): a check that fails with a clear
// message, a watchdog so a hung SDK call cannot outlive the CTest timeout silently, a small valid
// PNG made here (no fixture file), and the MP4 sniff the downloads must pass.
import { deflateSync } from "node:zlib";

export class mismatch extends Error {}

/// Throws (and so fails the script) unless `cond`; `what` says what the simulator got wrong.
export function check(cond, what) {
    if (!cond) {
        throw new mismatch(what);
    }
}

/// Runs `main`, prints its summary line on success; any failure exits 1 with the reason.
export function run(name, main, { deadline_ms = 90_000 } = {}) {
    const started = Date.now();
    const watchdog = setTimeout(() => {
        console.error(`${name}: FAIL: no answer within ${deadline_ms} ms (a hung SDK call?)`);
        process.exit(1);
    }, deadline_ms);
    main().then(
        (summary) => {
            clearTimeout(watchdog);
            console.log(`${name}: ok in ${Date.now() - started} ms (${summary})`);
        },
        (err) => {
            clearTimeout(watchdog);
            const detail = err instanceof mismatch ? err.message : (err?.stack ?? String(err));
            const body = err?.body !== undefined ? `\n  body: ${JSON.stringify(err.body)}` : "";
            console.error(`${name}: FAIL: ${detail}${body}`);
            process.exit(1);
        },
    );
}

/// argv[2] or the named environment variable; exits 2 when neither is set.
export function arg(index, env_name, usage) {
    const v = process.argv[index] ?? process.env[env_name];
    if (!v) {
        console.error(`usage: ${usage}`);
        process.exit(2);
    }
    return v;
}

const crc_table = (() => {
    const t = new Uint32Array(256);
    for (let n = 0; n < 256; ++n) {
        let c = n;
        for (let k = 0; k < 8; ++k) {
            c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
        }
        t[n] = c >>> 0;
    }
    return t;
})();

function crc32(bytes) {
    let c = 0xffffffff;
    for (const b of bytes) {
        c = crc_table[(c ^ b) & 0xff] ^ (c >>> 8);
    }
    return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, "ascii");
    data.copy(out, 8);
    out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
}

/// An 8-bit RGB PNG of width x height (a vertical gradient), as a data URI.
export function png_data_uri(width, height) {
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(width, 0);
    ihdr.writeUInt32BE(height, 4);
    ihdr[8] = 8; // bit depth
    ihdr[9] = 2; // RGB
    const rows = Buffer.alloc(height * (1 + width * 3));
    for (let y = 0; y < height; ++y) {
        const row = y * (1 + width * 3); // filter byte 0, then the pixels
        for (let x = 0; x < width; ++x) {
            rows[row + 1 + x * 3] = (y * 255) / height;
            rows[row + 2 + x * 3] = (x * 255) / width;
            rows[row + 3 + x * 3] = 128;
        }
    }
    const png = Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        chunk("IHDR", ihdr),
        chunk("IDAT", deflateSync(rows)),
        chunk("IEND", Buffer.alloc(0)),
    ]);
    return `data:image/png;base64,${png.toString("base64")}`;
}

/// Whether `bytes` start like an ISO BMFF file: a box size, then "ftyp" at offset 4.
export function looks_like_mp4(bytes) {
    return bytes.length >= 12 && Buffer.from(bytes.subarray(4, 8)).toString("latin1") === "ftyp";
}

/// Reads a web ReadableStream (or anything `Response` accepts) to bytes.
export async function read_all(stream) {
    return new Uint8Array(await new Response(stream).arrayBuffer());
}

/// Checks that `seen` only moves forward through `order` and ends on its last word.
export function check_progression(seen, order, what) {
    let at = 0;
    for (const s of seen) {
        const i = order.indexOf(s);
        check(i >= 0, `${what}: unknown status '${s}' (seen: ${seen.join(" -> ")})`);
        check(i >= at, `${what}: status went backwards (seen: ${seen.join(" -> ")})`);
        at = i;
    }
    check(seen.at(-1) === order.at(-1), `${what}: never reached ${order.at(-1)} (seen: ${seen.join(" -> ")})`);
}
