export { createAgentServer } from "./main.js";
