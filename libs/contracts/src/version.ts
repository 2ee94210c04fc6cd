/** Reported by GET /v1/health; kept equal to package.json's version (a unit test checks). */
export const SERVER_VERSION = '0.1.0';
