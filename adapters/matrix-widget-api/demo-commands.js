// Reading a demo's commands, for demo.js and widget-demo.js: one JSON command a line; blank
// lines and `#` lines are skipped.
"use strict";

// The commands of `text`, read from `file`; a line that is not JSON is handed to `bad` with a
// message naming it (what `bad` returns stands for the command).
function parseCommands(text, file, bad) {
    return text
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.startsWith("#"))
        .map((l, i) => {
            try {
                return JSON.parse(l);
            } catch (e) {
                return bad(`${file}: command ${i + 1}: ${e.message}`);
            }
        });
}

module.exports = { parseCommands };
