/** aisc's version: `aisc --version`, and the tool named in SARIF and SBOM output. */
export const VERSION = '0.1.0';
