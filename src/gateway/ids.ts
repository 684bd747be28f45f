/** Resource ids are UUIDs; a path parameter that is not one cannot name a stored resource. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
