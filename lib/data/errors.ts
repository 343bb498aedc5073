// The one error type of lib/data: every failure to read, validate or write a dataset says which file,
// which field (HDF5 dataset path or JSON key) and, where it applies, which row or episode.

export type DatasetErrorKind =
  | 'not-found'
  | 'empty-file'
  | 'not-hdf5'
  | 'truncated'
  | 'hdf5'
  | 'missing-field'
  | 'dtype'
  | 'shape'
  | 'non-finite'
  | 'flag-value'
  | 'env-dims'
  | 'env-options'
  | 'episode'
  | 'metadata'
  | 'checksum'
  | 'lossy'
  | 'argument';

export interface DatasetErrorWhere {
  file: string;
  field?: string;
  /** Row (or `row,column`, or episode) index the problem was found at. */
  index?: number | string;
}

export class DatasetError extends Error {
  readonly kind: DatasetErrorKind;
  readonly file: string;
  readonly field: string | undefined;
  readonly index: number | string | undefined;

  constructor(kind: DatasetErrorKind, where: DatasetErrorWhere, detail: string) {
    const field = where.field === undefined ? '' : `: ${where.field}`;
    const index = where.index === undefined ? '' : ` at index ${where.index}`;
    super(`${where.file}${field}${index}: ${detail}`);
    this.name = 'DatasetError';
    this.kind = kind;
    this.file = where.file;
    this.field = where.field;
    this.index = where.index;
  }
}
