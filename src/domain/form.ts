/** Parsed form body: a repeated parameter arrives as an array. */
export type FormParams = Record<string, string | string[] | undefined>;
