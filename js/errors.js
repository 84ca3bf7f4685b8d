// Errors thrown or rejected by the client: real Error/TypeError objects with a stable `code`.
export const codedError = (Kind, code, message) => Object.assign(new Kind(`authpulse: ${message}`), { code });
