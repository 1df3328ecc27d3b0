// Taskwire's vendored co-editing bundle: Yjs, the y-protocols awareness codec, marked and DOMPurify.
export * as Y from "yjs";
export { Awareness, encodeAwarenessUpdate, applyAwarenessUpdate, removeAwarenessStates } from "y-protocols/awareness";
export { marked } from "marked";
export { default as DOMPurify } from "dompurify";
